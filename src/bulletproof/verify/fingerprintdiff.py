"""How two fingerprints differ, as values: each difference says what differs (the interpreter,
the platform, a distribution added, removed, at another version, built for other tags or with
other content, a system package...), its two sides, and what explains it when something else
that differs does (another interpreter rebuilds every compiled wheel; another OS release ships
other package versions). What nothing explains is what a reader must look at."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from bulletproof.verify.fingerprint import Fingerprint, InstalledDistribution, SystemPackage

OTHER_WHEEL = "another wheel: built for other tags"


class What(enum.Enum):
    INTERPRETER = "interpreter"
    PLATFORM = "platform"
    DISTRIBUTION_ADDED = "distribution added"  # in the second, not the first
    DISTRIBUTION_REMOVED = "distribution removed"  # in the first, not the second
    DISTRIBUTION_VERSION = "distribution version"
    DISTRIBUTION_TAGS = "distribution tags"
    DISTRIBUTION_CONTENT = "distribution content"
    SYSTEM_PACKAGE_ADDED = "system package added"
    SYSTEM_PACKAGE_REMOVED = "system package removed"
    SYSTEM_PACKAGE_VERSION = "system package version"
    LIBRARY_UNRESOLVED = "library unresolved"  # a soname one side needs and cannot find


@dataclass(frozen=True)
class Difference:
    what: What
    subject: str  # the field ("version", "tag"...) or the distribution's or package's name
    left: str  # the first fingerprint's value ("" when it has none)
    right: str  # the second's
    because: str = ""  # what explains it; "" when nothing else that differs does

    @property
    def cause(self) -> bool:
        """The interpreter or the platform: what other differences follow from."""
        return self.what in (What.INTERPRETER, What.PLATFORM)

    @property
    def unexplained(self) -> bool:
        return not self.cause and not self.because

    def describe(self) -> str:
        text = f"{self.what.value} {self.subject}: {self.left or '-'} -> {self.right or '-'}"
        return f"{text} ({self.because})" if self.because else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what.value,
            "subject": self.subject,
            "left": self.left,
            "right": self.right,
            "because": self.because,
        }


def diff(a: Fingerprint, b: Fingerprint) -> tuple[Difference, ...]:
    """Every difference from ``a`` to ``b``: causes first, then distributions and system
    packages by name; empty when the two environments are the same."""
    return (
        *_interpreter(a, b),
        *_platform(a, b),
        *_distributions(a, b),
        *_system_packages(a, b),
        *_libraries(a, b),
    )


def difference_lines(differences: tuple[Difference, ...]) -> tuple[tuple[str, bool], ...]:
    """Lines to read, each with whether nothing explains it: the causes, then the wheels
    rebuilt for them (their tags and content) named together on one line per reason, then
    every other difference on its own."""
    tagged = {d.subject for d in differences if d.what is What.DISTRIBUTION_TAGS and d.because}
    rebuilt: dict[str, list[str]] = {}
    causes: list[tuple[str, bool]] = []
    others: list[tuple[str, bool]] = []
    for d in differences:
        if d.subject in tagged and d.what is What.DISTRIBUTION_TAGS:
            rebuilt.setdefault(d.because, []).append(d.subject)
        elif (
            d.subject in tagged and d.what is What.DISTRIBUTION_CONTENT and d.because == OTHER_WHEEL
        ):
            continue  # said with its tags
        else:
            (causes if d.cause else others).append((d.describe(), d.unexplained))
    grouped = [
        (
            f"{len(names)} wheel(s) built for other tags, other content with them ({because}): "
            + ", ".join(names),
            False,
        )
        for because, names in rebuilt.items()
    ]
    return (*causes, *grouped, *others)


def _interpreter(a: Fingerprint, b: Fingerprint) -> list[Difference]:
    pairs = (
        ("implementation", a.implementation, b.implementation),
        ("version", a.python, b.python),
    )
    return [Difference(What.INTERPRETER, field, x, y) for field, x, y in pairs if x != y]


def _platform(a: Fingerprint, b: Fingerprint) -> list[Difference]:
    pa, pb = a.platform, b.platform
    pairs = (
        ("machine", pa.machine, pb.machine),
        ("tag", pa.tag, pb.tag),
        ("libc", f"{pa.libc} {pa.libc_version}".strip(), f"{pb.libc} {pb.libc_version}".strip()),
        ("os", f"{pa.os_id} {pa.os_version}".strip(), f"{pb.os_id} {pb.os_version}".strip()),
    )
    return [Difference(What.PLATFORM, field, x, y) for field, x, y in pairs if x != y]


def _rebuilt_for(a: Fingerprint, b: Fingerprint) -> str:
    """Why a compiled wheel may differ between the two: another interpreter or platform."""
    if (a.implementation, _minor(a.python)) != (b.implementation, _minor(b.python)):
        return f"another interpreter ({_minor(a.python)} / {_minor(b.python)})"
    if (a.platform.machine, a.platform.tag) != (b.platform.machine, b.platform.tag):
        return f"another platform ({a.platform.tag} / {b.platform.tag})"
    return ""


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _distributions(a: Fingerprint, b: Fingerprint) -> list[Difference]:
    left = {d.name: d for d in a.distributions}
    right = {d.name: d for d in b.distributions}
    rebuilt = _rebuilt_for(a, b)
    added = _one_sided(b, a, right.keys() - left.keys())
    removed = _one_sided(a, b, left.keys() - right.keys())
    found: list[Difference] = []
    for name in sorted(left.keys() | right.keys()):
        x, y = left.get(name), right.get(name)
        if x is None and y is not None:
            found.append(Difference(What.DISTRIBUTION_ADDED, name, "", y.version, added[name]))
        elif y is None and x is not None:
            found.append(Difference(What.DISTRIBUTION_REMOVED, name, x.version, "", removed[name]))
        elif x is not None and y is not None:
            found.extend(_one_distribution(x, y, rebuilt, (a.python, b.python)))
    return found


def _one_distribution(
    x: InstalledDistribution, y: InstalledDistribution, rebuilt: str, pythons: tuple[str, str]
) -> list[Difference]:
    if x.version != y.version:  # its tags and content differ with it: one difference says it
        because = _not_for(x, pythons[1]) or _not_for(y, pythons[0])
        return [Difference(What.DISTRIBUTION_VERSION, x.name, x.version, y.version, because)]
    found = []
    if x.tags != y.tags:
        found.append(
            Difference(What.DISTRIBUTION_TAGS, x.name, ".".join(x.tags), ".".join(y.tags), rebuilt)
        )
    if x.content != y.content and not (x.editable and y.editable):
        # an editable install's files are the project's own, and name where it lies
        found.append(
            Difference(What.DISTRIBUTION_CONTENT, x.name, x.content, y.content, _why_content(x, y))
        )
    return found


def _one_sided(here: Fingerprint, there: Fingerprint, names: set[str]) -> dict[str, str]:
    """Why each of ``names``, installed ``here`` only, is not ``there``: a distribution here
    requires it with an environment marker this interpreter meets and the other does not
    (importlib-metadata; python_version < "3.12"), or it is needed by one that is here only
    for such a reason (zipp, for importlib-metadata); "" when neither explains it."""
    why = dict.fromkeys(names, "")
    edges = [
        (dist.name, canonicalize_name(req.name), req.marker)
        for dist in here.distributions
        for req in map(_requirement, dist.requires)
        if req is not None and canonicalize_name(req.name) in why
    ]
    for requirer, name, marker in edges:
        if marker is not None and not why[name] and _only_here(marker, here, there):
            why[name] = f"another interpreter: {requirer} requires it where {marker}"
    changed = True
    while changed:  # needed by one that is here only with a reason: explained with it
        changed = False
        for requirer, name, _ in edges:
            if not why[name] and why.get(requirer):
                why[name] = f"another interpreter: needed by {requirer}, here only for it"
                changed = True
    return why


def _requirement(line: str) -> Requirement | None:
    try:
        return Requirement(line)
    except InvalidRequirement:
        return None


def _only_here(marker: Marker, here: Fingerprint, there: Fingerprint) -> bool:
    """The marker holds for this interpreter and not the other's, with no extra or with an
    extra it names (which extras were asked for the fingerprint does not say)."""
    extras = ["", *re.findall(r"extra\s*==\s*['\"]([^'\"]+)", str(marker))]

    def holds(f: Fingerprint, extra: str) -> bool:
        env = {
            "python_version": _minor(f.python),
            "python_full_version": f.python,
            "implementation_name": f.implementation,
            "extra": extra,
        }
        return marker.evaluate(env)

    return any(holds(here, extra) and not holds(there, extra) for extra in extras)


def _not_for(dist: InstalledDistribution, python: str) -> str:
    """Why the other side could not have this version: its Requires-Python excludes the other
    interpreter (a lock is made for its interpreter: it takes the newest release that allows it)."""
    if not dist.requires_python or not python:
        return ""
    try:
        allowed = SpecifierSet(dist.requires_python).contains(python, prereleases=True)
    except InvalidSpecifier:
        return ""
    return "" if allowed else f"{dist.version} requires Python {dist.requires_python}"


def _why_content(x: InstalledDistribution, y: InstalledDistribution) -> str:
    if x.editable != y.editable:
        return "installed editable on one side only"
    if x.tags != y.tags:
        return OTHER_WHEEL
    if any("-linux_" in tag for tag in (*x.tags, *y.tags)):
        # no index serves linux_* wheels: each system built it from source, and builds are
        # not byte-for-byte reproducible
        return "built from source on each system"
    return ""


def _system_packages(a: Fingerprint, b: Fingerprint) -> list[Difference]:
    left: dict[str, SystemPackage] = {p.name: p for p in a.system_packages}
    right: dict[str, SystemPackage] = {p.name: p for p in b.system_packages}
    other_os = (a.platform.os_id, a.platform.os_version) != (
        b.platform.os_id,
        b.platform.os_version,
    )
    because = f"another OS release ({_os(a)} / {_os(b)})" if other_os else ""
    found = []
    for name in sorted(left.keys() | right.keys()):
        x, y = left.get(name), right.get(name)
        if x is None and y is not None:
            found.append(Difference(What.SYSTEM_PACKAGE_ADDED, name, "", y.version, because))
        elif y is None and x is not None:
            found.append(Difference(What.SYSTEM_PACKAGE_REMOVED, name, x.version, "", because))
        elif x is not None and y is not None and x.version != y.version:
            why = because or _same_upstream(x.version, y.version)
            found.append(Difference(What.SYSTEM_PACKAGE_VERSION, name, x.version, y.version, why))
    return found


def _same_upstream(x: str, y: str) -> str:
    """Two builds of one upstream version on the same release (2.36-9+deb12u9, 2.36-9+deb12u13):
    a system updated at another time, not another library."""

    def upstream(version: str) -> str:
        return version.partition(":")[2 if ":" in version else 0].rpartition("-")[0] or version

    return "an update of the same upstream version" if upstream(x) == upstream(y) else ""


def _os(f: Fingerprint) -> str:
    return f"{f.platform.os_id} {f.platform.os_version}".strip()


def _libraries(a: Fingerprint, b: Fingerprint) -> list[Difference]:
    left, right = set(a.unresolved_libraries), set(b.unresolved_libraries)
    return [
        Difference(
            What.LIBRARY_UNRESOLVED,
            soname,
            "unresolved" if soname in left else "",
            "unresolved" if soname in right else "",
        )
        for soname in sorted(left ^ right)
    ]

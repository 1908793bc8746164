"""`prove --fresh` for real: the example project set up here (Python 3.12), then stood up by
bulletproof itself in a buildah build from a fresh Debian 12 (python3 3.11), its tests run
there, and the two environments compared. One run: a build costs minutes. Two shared real
projects (third-party code, unmodified), each set up here and proved on a fresh system of its own
release, Debian 13 among them (`make test-all`)."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.verify.fingerprint import Fingerprint
from bulletproof.verify.fingerprintdiff import Difference, What
from tests.conftest import snapshot
from tests.fixtures.projects import BUILT
from tests.fresh.images import STORE, base_image
from tests.fresh.system import REPO
from tests.test_fresh_projects import PROJECTS, PROJECTS_DIR

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]


def _use_test_storage(where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """buildah as prove runs it finds the imported base in the tests' own image storage, as a
    user's configuration would point it anywhere (containers-storage.conf)."""
    conf = where / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{STORE / "root"}"\nrunroot = "{STORE / "run"}"\n'
    )
    monkeypatch.setenv("CONTAINERS_STORAGE_CONF", str(conf))


def test_prove_fresh_bookworm_verifies_and_names_only_explained_differences(
    tmp_path: Path, bulletproof_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = base_image("bookworm")
    _use_test_storage(tmp_path, monkeypatch)
    project = tmp_path / "examples-copy"
    shutil.copytree(
        REPO / "examples" / "code-engine",
        project,
        ignore=shutil.ignore_patterns(".venv", ".bulletproof", "__pycache__", *BUILT),
    )
    # the example's code requires a signing key; its .env goes into the copy prove builds from
    (project / ".env").write_text("JWT_SECRET=a-test-signing-key-of-32-bytes-or-more\n")
    assert main(["setup", str(project), "--yes", "-q"]) == 0
    before = snapshot(project)
    report = tmp_path / "prove.json"
    argv = ["prove", str(project), "--fresh", "bookworm", "--base", base]
    argv += ["--tool-source", str(bulletproof_wheel), "--json", str(report), "-q"]
    code = main(argv)
    data = json.loads(report.read_text())
    proved = data["prove"]
    assert code == 0, json.dumps({k: v for k, v in proved.items() if "fingerprint" not in k})
    assert proved["fresh"]["exit_code"] == 0 and proved["base"] == base
    assert snapshot(project) == before  # the build worked on a copy

    local = Fingerprint.from_dict(proved["local_fingerprint"])
    fresh = Fingerprint.from_dict(proved["fresh_fingerprint"])
    differences = [Difference(What(d.pop("what")), **d) for d in proved["differences"]]
    (interpreter,) = [d for d in differences if d.what is What.INTERPRETER]
    assert interpreter.subject == "version"
    assert interpreter.left.startswith("3.12.") and interpreter.right.startswith("3.11.")
    assert (fresh.platform.os_id, fresh.platform.os_version) == ("debian", "12")
    # every other difference follows from the interpreter (compiled wheels rebuilt for it) or
    # the system; nothing that should be equal differs without a reason
    assert [d.describe() for d in differences if d.unexplained] == []
    rebuilt = [d for d in differences if d.what is What.DISTRIBUTION_TAGS]
    assert rebuilt and all("another interpreter" in d.because for d in rebuilt)
    # the content was compared, not skipped: the pure wheels are byte for byte the same there
    pure = [d for d in local.distributions if d.tags == ("py3-none-any",) and not d.editable]
    assert len(pure) > 20
    same_version = [
        d for d in pure if getattr(fresh.distribution(d.name), "version", "") == d.version
    ]
    assert [d.name for d in same_version if fresh.distribution(d.name) != d] == []


def _prove(project: Path, suite: str, wheel: Path, report: Path) -> tuple[int, dict[str, Any]]:
    """prove --fresh on ``suite`` from the tests' imported base: its exit code and report."""
    argv = ["prove", str(project), "--fresh", suite, "--base", base_image(suite)]
    code = main([*argv, "--tool-source", str(wheel), "--json", str(report), "-q"])
    proved: dict[str, Any] = json.loads(report.read_text())["prove"]
    return code, proved


# projects that set up verified here (a usable one fails the generated image's build at its setup
# step, exit 4): a setup.cfg project proved on Debian 13, and a requirements-dir one on Debian 12,
# whose Python 3.11 (against this machine's newer one) takes tools that markers add for it
# (importlib-metadata; python_version < "3.12", and zipp with it)
SHARED = {"plaster_pastedeploy": "trixie", "aiosignal": "bookworm"}


@pytest.mark.skipif(not PROJECTS, reason="../shared/cases/projects is not beside the repository")
@pytest.mark.parametrize(
    ("shared", "suite"),
    [
        pytest.param(p, SHARED[p["name"]], id=p["name"], marks=pytest.mark.exhaustive)
        for p in PROJECTS
        if p["name"] in SHARED
    ],
)
def test_prove_fresh_a_shared_project_names_only_explained_differences(
    shared: dict[str, Any],
    suite: str,
    tmp_path: Path,
    bulletproof_wheel: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_test_storage(tmp_path, monkeypatch)
    project = tmp_path / shared["name"]
    project.mkdir()
    with tarfile.open(PROJECTS_DIR / f"{shared['name']}.tar.gz") as archive:
        archive.extractall(project, filter="data")
    assert main(["setup", str(project), "--yes", "-q"]) == 0
    here = main(["verify", str(project), "--tests", "-q"])
    before = snapshot(project)
    code, proved = _prove(project, suite, bulletproof_wheel, tmp_path / "prove.json")
    assert proved["build"] is None, proved["build"]
    shown = json.dumps({k: v for k, v in proved.items() if "fingerprint" not in k})
    # prove says what verify --tests said there, and the tests came out there as here
    assert code == proved["fresh"]["exit_code"] == here, shown
    assert snapshot(project) == before  # the build worked on a copy

    local = Fingerprint.from_dict(proved["local_fingerprint"])
    fresh = Fingerprint.from_dict(proved["fresh_fingerprint"])
    version = {"bookworm": "12", "trixie": "13"}[suite]
    assert (fresh.platform.os_id, fresh.platform.os_version) == ("debian", version)
    differences = [Difference(What(d.pop("what")), **d) for d in proved["differences"]]
    print(*(d.describe() for d in differences), sep="\n")  # -s shows them, junit XML keeps them
    interpreter = [(d.subject, d.left, d.right) for d in differences if d.what is What.INTERPRETER]
    expected = [("version", local.python, fresh.python)] if local.python != fresh.python else []
    assert interpreter == expected
    assert [d.describe() for d in differences if d.unexplained] == [], shown
    # the content was compared: the pure wheels of the same version are the same there
    pure = [d for d in local.distributions if d.tags == ("py3-none-any",) and not d.editable]
    same_version = [
        d for d in pure if getattr(fresh.distribution(d.name), "version", "") == d.version
    ]
    assert len(same_version) >= 3, [d.name for d in pure]
    assert [d.name for d in same_version if fresh.distribution(d.name) != d] == []

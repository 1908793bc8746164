"""A project whose version comes from version control, cloned or unpacked without usable
metadata: the backend's documented pretend-version variable, so its build does not fail."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof import proc

# The build requirements that read the version from git, and what each documents as the way
# to give it one (by normalized name); {NAME} is the distribution name, upper-cased with runs of
# -_. as _.
_PRETEND = {
    "setuptools-scm": "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{NAME}",
    # hatch-vcs and flit-scm do not pass the name on to setuptools-scm: only the plain form works
    "hatch-vcs": "SETUPTOOLS_SCM_PRETEND_VERSION",
    "flit-scm": "SETUPTOOLS_SCM_PRETEND_VERSION",
    "pdm-backend": "PDM_BUILD_SCM_VERSION",
    "pbr": "PBR_VERSION",
}
PRETEND_VERSION = "0.0.0"


def _git_usable(root: Path) -> bool:
    if shutil.which("git") is None or not (root / ".git").exists():
        return False
    return proc.run(["git", "-C", str(root), "rev-parse", "HEAD"], timeout=30).ok


def _name(requirement: str) -> str:
    """The normalized name a build requirement names ("" for one that does not parse)."""
    try:
        return canonicalize_name(Requirement(requirement).name)
    except InvalidRequirement:
        return ""


def for_resolution(env: dict[str, str]) -> dict[str, str]:
    """The variables safe while locking, where other packages' sdists may build too: only the
    forms that name the project."""
    return {k: v for k, v in env.items() if "_FOR_" in k}


def pretend_version_env(root: Path, data: dict[str, Any], name: str | None) -> dict[str, str]:
    """The variables to set for the project's own build, {} when git can give the version or
    the backend does not ask it."""
    requires = data.get("build-system", {}).get("requires", [])
    setup_cfg = root / "setup.cfg"
    names = [_name(r) for r in requires if isinstance(r, str)]
    if setup_cfg.is_file() and "pbr" in setup_cfg.read_text(encoding="utf-8", errors="replace"):
        names.append("pbr")
    wanted = [_PRETEND[n] for n in names if n in _PRETEND]
    if not wanted or _git_usable(root):
        return {}
    key = canonicalize_name(name or "").replace("-", "_").upper()
    env: dict[str, str] = {}
    for variable in wanted:
        if "{NAME}" in variable:
            if key:
                env[variable.format(NAME=key)] = PRETEND_VERSION
            else:
                env["SETUPTOOLS_SCM_PRETEND_VERSION"] = PRETEND_VERSION
        else:
            env[variable] = PRETEND_VERSION
    return env

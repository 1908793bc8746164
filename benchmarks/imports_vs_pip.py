"""Benchmark: what imports after `bulletproof setup DIR --yes` against after the project's own
documented pip commands, on real projects: the shared ones (../shared/cases/projects/, each
archive, and humanize also as a clone, as projects.toml says) and the further projects in
OTHERS below (each as a clone: its `git archive` of the named commit, then `git init` + commit).

For each project, two fresh copies: (b) the documented commands (projects.toml's `naive`, or
OTHERS' `command`) with `python3` being the chosen interpreter, run first so that they meet the
host as it was (bulletproof, as root, may install system packages, and they stay); then (a)
`bulletproof setup COPY --yes --python THAT`. Then, in each copy, with one shared list per
project:

- imports: the project's own top-level modules (its packages in the source, root scripts that
  guard `__main__`), its direct dependencies' top-level modules (from the files its developer
  is told to install from, mapped to modules through the installed RECORD of either
  environment) and projects.toml's `imports`; each imported alone, from the copy, with the
  copy's `.venv/bin/python` (none: 0 OK);
- basedpyright's reportMissingImports diagnostics over the copy, with `--pythonpath` the copy's
  `.venv/bin/python` (none: an empty venv of the same Python). The same pyrightconfig.json is
  written into both copies (type checking off, dot folders and build output excluded).

The sources of OTHERS are `git archive --format=tar.gz COMMIT` of each repository, in
benchmarks/work/sources/NAME.tar.gz. basedpyright: on PATH, or --basedpyright.

Usage: python benchmarks/imports_vs_pip.py [--only NAME] [--json FILE] [--markdown FILE]
With --only and an existing --json file, the other projects' entries are kept.
"""

from __future__ import annotations

import argparse
import configparser
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof.host.pythons import find_interpreters
from bulletproof.tomlcompat import tomllib

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "cases" / "projects"
SOURCES = HERE / "work" / "sources"
WORK = HERE / "work" / "imports"
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
TIMEOUT = 1800

# The direct dependencies of each shared project's development environment, as its
# developer_told says (spec: req:FILE, pep621, extra:X, group:X, setupcfg, setupcfg-extra:X,
# poetry, poetry-group:X, pipfile, or =REQUIREMENT for a setup.py's literal lists).
SHARED_DEPS: dict[str, tuple[str, ...]] = {
    "responses": (
        *("=requests", "=urllib3", "=pyyaml"),  # setup.py install_requires
        *("=pytest", "=coverage", "=pytest-cov", "=pytest-asyncio", "=pytest-httpserver"),
        *("=flake8", "=types-PyYAML", "=types-requests", "=mypy"),
        *("=tomli; python_version < '3.11'", "=tomli-w"),  # setup.py tests_require = 'tests'
    ),
    "plaster_pastedeploy": ("setupcfg", "setupcfg-extra:testing"),
    "hvac": ("poetry", "poetry-group:dev", "poetry-group:docs"),
    "dirty-equals": ("pep621", "group:dev", "group:docs"),
    "stella": ("pipfile",),
    "aiosignal": ("setupcfg", "req:requirements/dev.txt"),
    "humanize": ("pep621", "extra:tests"),
    "powerdns-admin": ("req:requirements-dev.txt",),
}
CLONED = ("humanize",)  # shared projects also run as a clone (projects.toml: vcs-version)

# Further real projects: repository, commit, shape, the developer's documented command (with
# pip, or what pip alone can do of it) and where it is written, the interpreter, the deps.
OTHERS: list[dict[str, Any]] = [
    {
        "name": "healthchecks",
        "repo": "healthchecks/healthchecks",
        "commit": "29b5ec251059034b79e0120e2ff0c3e35d7bd9f8",
        "shape": "Django project, requirements.txt + requirements-dev.txt, C extensions",
        "command": "python3 -m venv .venv && .venv/bin/pip3 install wheel"
        " && .venv/bin/pip install -r requirements.txt -r requirements-dev.txt",
        "source": "README 'Setting Up for Development' (its apt line, gcc python3-dev "
        "python3-venv libpq-dev libcurl4-openssl-dev libssl-dev, is not run: pip only)",
        "python": "3.12",
        "deps": ("req:requirements.txt", "req:requirements-dev.txt"),
    },
    {
        "name": "pygraphviz",
        "repo": "pygraphviz/pygraphviz",
        "commit": "cef70acb6b6d778a36efee0036520e218cc84f79",
        "shape": "C extension (SWIG) against libgraphviz, PEP 621 + requirements/",
        "command": "python3 -m venv .venv && .venv/bin/pip install -r requirements/test.txt"
        " -r requirements/developer.txt && .venv/bin/pip install -e .",
        "source": "CONTRIBUTING.rst 'Development Workflow' (venv, pip based)",
        "python": "3.12",
        "deps": ("pep621", "req:requirements/test.txt", "req:requirements/developer.txt"),
    },
    {
        "name": "rich",
        "repo": "Textualize/rich",
        "commit": "42899d8a0a96b121a514516f4be9db44ff7aeaf3",
        "shape": "Poetry 1.x ([tool.poetry] dependencies + dev-dependencies, poetry.lock)",
        "command": "python3 -m venv .venv && .venv/bin/pip install -e .",
        "source": "CONTRIBUTING.md says `poetry install`; what pip alone can do of it is"
        " `pip install -e .`",
        "python": "3.12",
        "deps": ("poetry", "poetry-group:dev"),
    },
    {
        "name": "pre-commit",
        "repo": "pre-commit/pre-commit",
        "commit": "a9bba55a3f74068b53f4bd4d831d7e05e34eae6c",
        "shape": "setup.cfg library + requirements-dev.txt",
        "command": "python3 -m venv .venv && .venv/bin/pip install -e . -r requirements-dev.txt",
        "source": "CONTRIBUTING.md `tox --devenv venv`: tox.ini's testenv (deps = "
        "-rrequirements-dev.txt, the package installed) done with pip",
        "python": "3.12",
        "deps": ("setupcfg", "req:requirements-dev.txt"),
    },
    {
        "name": "XSStrike",
        "repo": "s0md3v/XSStrike",
        "commit": "ab27955d367432f944d8f29897e09c15356e76f7",
        "shape": "app run from its folder, requirements.txt only",
        "command": "python3 -m venv .venv"
        " && .venv/bin/pip install -r requirements.txt --break-system-packages",
        "source": "README 'Installation'",
        "python": "3.12",
        "deps": ("req:requirements.txt",),
    },
    {
        "name": "django-debug-toolbar",
        "repo": "django-commons/django-debug-toolbar",
        "commit": "9e9ebf974765308de1550002192782a50e64e969",
        "shape": "Django app, hatchling, PEP 735 dependency groups dev + docs",
        "command": "python3 -m venv .venv && .venv/bin/python -m pip install --group dev"
        " --group docs",
        "source": "docs/contributing.rst 'Setup'",
        "python": "3.12",
        "deps": ("pep621", "group:dev", "group:docs"),
    },
]

PYRIGHT_CONFIG = {
    "include": ["."],
    "exclude": ["**/.*", "**/node_modules", "**/__pycache__", "build", "dist", "**/*.egg-info"],
    "typeCheckingMode": "off",
    "reportMissingImports": "error",
    "reportMissingModuleSource": "warning",
}
NOT_OWN = {
    *("tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks", "bench"),
    *("scripts", "tools", "build", "dist", "migrations", "site", "node_modules", "static"),
    *("templates", "deploy", "docker", "configs", "requirements", "stuff", "db", "src"),
}
NOT_OWN_FILES = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py", "manage.py", "tasks.py"}


def _identifier(name: str) -> bool:
    return name.isidentifier() and not name.startswith(".")


def _is_test(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test") or name == "conftest"


def own_modules(folder: Path) -> list[str]:
    """The project's top-level packages, the modules of its namespace folders, and root scripts
    that guard `__main__` (a script that runs its work on import is not a module to import)."""
    found: list[str] = []
    for root in (folder, folder / "src"):
        if not root.is_dir():
            continue
        for entry in sorted(root.iterdir()):
            name = entry.stem if entry.suffix == ".py" else entry.name
            if not _identifier(name) or name in NOT_OWN or _is_test(name):
                continue
            if entry.is_dir() and (entry / "__init__.py").exists():
                found.append(name)
            elif entry.is_dir():
                found += [
                    f"{name}.{child.stem}"
                    for child in sorted(entry.glob("*.py"))
                    if _identifier(child.stem) and not _is_test(child.stem)
                ]
            elif entry.suffix == ".py" and entry.name not in NOT_OWN_FILES:
                text = entry.read_text(errors="replace")
                if re.search(r"__name__\s*==\s*['\"]__main__['\"]", text):
                    found.append(name)
    return found


def _requirement_lines(path: Path, seen: set[Path]) -> list[str]:
    if path in seen or not path.exists():
        return []
    seen.add(path)
    out: list[str] = []
    for raw in path.read_text().replace("\\\n", " ").splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line.startswith(("-r ", "--requirement ")):
            out += _requirement_lines(path.parent / line.split(None, 1)[1].strip(), seen)
        elif line and not line.startswith("-"):
            out.append(line)
    return out


def _poetry_names(table: dict[str, Any]) -> list[str]:
    return [
        name
        for name, spec in table.items()
        if name != "python" and not (isinstance(spec, dict) and spec.get("optional"))
    ]


def _group(pyproject: dict[str, Any], name: str) -> list[str]:
    out: list[str] = []
    for item in pyproject.get("dependency-groups", {}).get(name, []):
        out += _group(pyproject, item["include-group"]) if isinstance(item, dict) else [item]
    return out


def _spec_lines(folder: Path, spec: tuple[str, ...]) -> list[str]:
    pyproject: dict[str, Any] = {}
    if (folder / "pyproject.toml").exists():
        pyproject = tomllib.loads((folder / "pyproject.toml").read_text())
    project = pyproject.get("project", {})
    poetry = pyproject.get("tool", {}).get("poetry", {})
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(folder / "setup.cfg")

    def poetry_group(name: str) -> list[str]:
        group = poetry.get("group", {}).get(name, {}).get("dependencies", {})
        if name == "dev":  # Poetry 1.0's table for the same group
            group = {**poetry.get("dev-dependencies", {}), **group}
        return _poetry_names(group)

    def pipfile(_: str) -> list[str]:
        data = tomllib.loads((folder / "Pipfile").read_text())
        return [*data.get("packages", {}), *data.get("dev-packages", {})]

    kinds: dict[str, Any] = {
        "req": lambda arg: _requirement_lines(folder / arg, set()),
        "pep621": lambda _: project.get("dependencies", []),
        "extra": lambda arg: project.get("optional-dependencies", {}).get(arg, []),
        "group": lambda arg: _group(pyproject, arg),
        "setupcfg": lambda _: cfg.get("options", "install_requires", fallback="").split("\n"),
        "setupcfg-extra": lambda arg: cfg.get("options.extras_require", arg, fallback="").split(
            "\n"
        ),
        "poetry": lambda _: _poetry_names(poetry.get("dependencies", {})),
        "poetry-group": poetry_group,
        "pipfile": pipfile,
    }
    lines: list[str] = []
    for item in spec:
        kind, _, arg = item.partition(":")
        lines += [item[1:]] if item.startswith("=") else list(kinds[kind](arg))
    return lines


def declared(folder: Path, spec: tuple[str, ...], python: str) -> list[str]:
    """Canonical names of the direct dependencies ``spec`` names, markers applied for
    ``python``."""
    lines = _spec_lines(folder, spec)
    marker_env = {"python_version": python, "python_full_version": f"{python}.0"}
    names: list[str] = []
    for line in (x.strip() for x in lines):
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not Marker(str(req.marker)).evaluate(marker_env):
            continue
        if canonicalize_name(req.name) not in names:
            names.append(canonicalize_name(req.name))
    return names


def _site_packages(copy: Path) -> Path | None:
    found = sorted((copy / ".venv").glob("lib/python3*/site-packages"))
    return found[0] if found else None


def dist_modules(copy: Path, name: str) -> list[str] | None:
    """Public top-level modules of the distribution ``name`` in the copy's environment (the
    first level of a namespace package), from its RECORD; None when it is not installed."""
    site = _site_packages(copy)
    if site is None:
        return None
    for info in site.glob("*.dist-info"):
        if canonicalize_name(info.name.split("-")[0]) != name or not (info / "RECORD").exists():
            continue
        with (info / "RECORD").open(newline="") as record:
            paths = [row[0] for row in csv.reader(record) if row]
        return _modules_of(paths)
    return None


def _modules_of(paths: list[str]) -> list[str]:
    files = {p for p in paths if not p.startswith("..") and ".dist-info/" not in p}
    mods: set[str] = set()
    for path in files:
        parts = path.split("/")
        if len(parts) == 1:
            stem = parts[0].split(".")[0]
            if parts[0].endswith((".py", ".so")) and _identifier(stem):
                mods.add(stem)
        elif _identifier(parts[0]) and not parts[0].endswith(".data"):
            if f"{parts[0]}/__init__.py" in files or any(
                f.startswith(f"{parts[0]}/__init__.") for f in files
            ):
                mods.add(parts[0])
            elif len(parts) > 2 and f"{parts[0]}/{parts[1]}/__init__.py" in files:
                mods.add(f"{parts[0]}.{parts[1]}")  # a namespace package's subpackage
    public = sorted(m for m in mods if not m.startswith("_"))
    return public or sorted(mods)


def module_list(
    copies: list[Path], project_dir: Path, deps: list[str], extra: list[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """One list for both environments: own modules, each dependency's modules (as either
    environment installed it; by its name when neither did), then ``extra``."""
    modules = own_modules(project_dir)
    by_dist: dict[str, list[str]] = {}
    for dep in deps:
        found: set[str] = set()
        installed = False
        for copy in copies:
            mods = dist_modules(copy, dep)
            installed = installed or mods is not None
            found |= set(mods or [])
        # installed with no module (a binary, stubs): nothing to import; installed nowhere: its
        # name stands for its module, and fails in both
        by_dist[dep] = sorted(found) if installed else [re.sub(r"[-.]", "_", dep)]
        modules += [m for m in by_dist[dep] if m not in modules]
    modules += [m for m in extra if m not in modules]
    return modules, by_dist


def check_imports(copy: Path, modules: list[str], env: dict[str, str]) -> dict[str, str]:
    """module -> "" when it imports alone with the copy's python, else the error's last line."""
    python = copy / ".venv" / "bin" / "python"
    out: dict[str, str] = {}
    for module in modules:
        if not python.exists():
            out[module] = "no environment"
            continue
        code = "import importlib, sys; importlib.import_module(sys.argv[1])"
        try:
            done = subprocess.run(
                [str(python), "-c", code, module],
                cwd=copy,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            out[module] = "timed out (60 s)"
            continue
        lines = done.stderr.strip().splitlines()
        out[module] = "" if done.returncode == 0 else (lines[-1] if lines else "failed")
    return out


def missing_imports(copy: Path, pyright: str, empty_python: Path) -> dict[str, Any]:
    python = copy / ".venv" / "bin" / "python"
    (copy / "pyrightconfig.json").write_text(json.dumps(PYRIGHT_CONFIG, indent=2) + "\n")
    interpreter = python if python.exists() else empty_python
    done = subprocess.run(
        [pyright, "--outputjson", "--pythonpath", str(interpreter)],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    try:
        diagnostics = json.loads(done.stdout)["generalDiagnostics"]
    except (ValueError, KeyError):
        return {"error": (done.stdout + done.stderr)[-2000:]}
    found: dict[str, list[str]] = {"reportMissingImports": [], "reportMissingModuleSource": []}
    for diag in diagnostics:
        if diag.get("rule") in found:
            module = re.findall(r'"([^"]+)"', diag["message"])
            found[diag["rule"]].append(module[0] if module else diag["message"])
    return {
        "reportMissingImports": len(found["reportMissingImports"]),
        "reportMissingModuleSource": len(found["reportMissingModuleSource"]),
        "missing": sorted(set(found["reportMissingImports"])),
        "python": "the environment" if python.exists() else "none (an empty venv)",
    }


NOISE = "is ignored: it is neither a file nor a directory"  # pip's note on a local config


def clean(value: Any) -> Any:
    """The results without this machine's paths, index addresses or pip's configuration noise:
    the repository as <repo>, the home folder as ~."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value if not (isinstance(v, str) and NOISE in v)]
    if not isinstance(value, str):
        return value
    value = value.replace(str(HERE.parent), "<repo>").replace(str(Path.home()), "~")
    value = re.sub(r"(file|https?)://[^\s\"'`]*", "<url>", value)
    value = re.sub(r"/opt/(?!pipenv)[^\s\"'`]*", "<local path>", value)  # a local index
    return re.sub(r"/tmp/[^\s\"'`]*", "<tmp>", value)


def _run(command: list[str] | str, cwd: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    start = time.perf_counter()
    with log.open("w") as out:
        try:
            code = subprocess.run(
                command,
                cwd=cwd,
                env=env,
                shell=isinstance(command, str),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
    tail = log.read_text(errors="replace").rstrip().splitlines()[-15:]
    return {"exit": code, "seconds": round(time.perf_counter() - start, 1), "tail": tail}


def _installed_packages() -> set[str]:
    if shutil.which("dpkg-query") is None:
        return set()
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split()[0] for line in done.stdout.splitlines() if line.endswith(" installed")}


def _copy(tarball: Path, where: Path, clone: bool) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(where, filter="data")
    if clone:
        ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
        for argv in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-qm", "import"]):
            subprocess.run(["git", *argv], cwd=where, check=True, capture_output=True)
    return where


def _bulletproof_report(report: Path) -> dict[str, Any]:
    if not report.exists():
        return {}
    data = json.loads(report.read_text())
    verification = data.get("verification") or {}
    return {
        "verdict": verification.get("verdict"),
        "target": (data.get("target") or {}).get("version"),
        "judged": verification.get("judged", []),
        "mitigation": [
            {k: m.get(k) for k in ("package", "stage", "cause", "fix", "outcome")}
            for m in data.get("mitigation") or []
        ],
        "system_missing": ((data.get("diagnosis") or {}).get("system") or {}).get("missing"),
        "message": (data.get("result") or {}).get("message"),
    }


def run_project(
    entry: dict[str, Any], pythons: dict[str, Path], pyright: str, env: dict[str, str]
) -> dict[str, Any]:
    key, python_minor = entry["key"], entry["python"]
    python = pythons[python_minor]
    bindir = WORK / f"bin-{python_minor}"
    bindir.mkdir(parents=True, exist_ok=True)
    (bindir / "python3").unlink(missing_ok=True)
    (bindir / "python3").symlink_to(python)
    empty = WORK / f"empty-{python_minor}"
    if not (empty / "bin" / "python").exists():
        subprocess.run([str(python), "-m", "venv", "--without-pip", str(empty)], check=True)
    run_env = {**env, "PATH": f"{bindir}:{env['PATH']}"}
    slug = re.sub(r"\W+", "-", key).strip("-")
    pip_copy = _copy(entry["tarball"], WORK / f"{slug}-pip", entry["clone"])
    bp_copy = _copy(entry["tarball"], WORK / f"{slug}-bp", entry["clone"])
    pipenv_home = WORK / "pipenv-tool"
    shutil.rmtree(pipenv_home, ignore_errors=True)
    command = entry["command"].replace("/opt/pipenv", str(pipenv_home))
    print(f"{key}: (b) {command}", flush=True)
    pip = _run(command, pip_copy, run_env, WORK / f"{slug}-pip.log")
    report = WORK / f"{slug}-bp.report.json"
    report.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "bulletproof", "setup", str(bp_copy), "--yes"]
    argv += ["--python", str(python), "--json", str(report)]
    print(f"{key}: (a) bulletproof setup --yes --python {python}", flush=True)
    before = _installed_packages()
    bp = _run(argv, bp_copy, run_env, WORK / f"{slug}-bp.log")
    bp["system_installed"] = sorted(_installed_packages() - before)
    bp.update(_bulletproof_report(report))
    deps = declared(bp_copy, entry["deps"], python_minor)
    modules, by_dist = module_list([bp_copy, pip_copy], bp_copy, deps, entry["imports"])
    result: dict[str, Any] = {
        k: entry[k] for k in ("key", "name", "repo", "commit", "shape", "source", "clone")
    }
    result.update(
        python=python_minor, command=entry["command"], bulletproof=bp, pip=pip, deps=by_dist
    )
    result["modules"] = modules
    empty_python = empty / "bin" / "python"
    for which, copy in (("bp", bp_copy), ("pip", pip_copy)):
        imported = check_imports(copy, modules, env)
        result[f"imports_{which}"] = {
            "ok": sum(1 for e in imported.values() if not e),
            "failed": {m: e for m, e in imported.items() if e},
        }
        result[f"pyright_{which}"] = missing_imports(copy, pyright, empty_python)
    print(_row(result), flush=True)
    return result


def _row(r: dict[str, Any]) -> str:
    n = len(r["modules"])
    bp_m = r["pyright_bp"].get("reportMissingImports", "?")
    pip_m = r["pyright_pip"].get("reportMissingImports", "?")
    return (
        f"| {r['key']} | `{r['commit'][:10]}` | {r['python']} | {r['bulletproof']['exit']}"
        f" ({r['bulletproof'].get('verdict') or '-'}) | {r['pip']['exit']}"
        f" | {r['imports_bp']['ok']} / {r['imports_pip']['ok']} / {n} | {bp_m} / {pip_m} |"
    )


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| project | commit | Python | bulletproof exit (verdict) | pip exit"
        " | imports ok (bp / pip / of N) | reportMissingImports (bp / pip) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [_row(r) for r in results]

    def total(key: str, field: str) -> int:
        return sum(int(r[key].get(field, 0) or 0) for r in results)

    n = sum(len(r["modules"]) for r in results)
    lines.append(
        f"| **total** | | | | | **{total('imports_bp', 'ok')} / {total('imports_pip', 'ok')}"
        f" / {n}** | **{total('pyright_bp', 'reportMissingImports')} /"
        f" {total('pyright_pip', 'reportMissingImports')}** |"
    )
    return "\n".join(lines)


def entries(only: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in tomllib.loads((SHARED / "projects.toml").read_text())["project"]:
        for clone in (False, True) if p["name"] in CLONED else (False,):
            out.append(
                {
                    **p,
                    "key": p["name"] + (" (clone)" if clone else ""),
                    "tarball": SHARED / f"{p['name']}.tar.gz",
                    "clone": clone,
                    "command": p["naive"],
                    "source": p["developer_told"],
                    "python": PYTHON[p["suite"]],
                    "deps": SHARED_DEPS[p["name"]],
                }
            )
    for p in OTHERS:
        tarball = SOURCES / f"{p['name']}.tar.gz"
        out.append({**p, "key": p["name"], "tarball": tarball, "clone": True, "imports": []})
    return [e for e in out if not only or e["name"] in only or e["key"] in only]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", default=[], help="a project (repeatable)")
    parser.add_argument("--json", type=Path, help="results; with --only, others are kept")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--basedpyright", default=shutil.which("basedpyright"))
    args = parser.parse_args()
    pyright = shutil.which(args.basedpyright or "basedpyright")
    if not pyright:
        parser.error("basedpyright is not on PATH: install it (uv tool install basedpyright)")
    pyright = str(Path(pyright).resolve())
    todo = entries(args.only)
    missing = [str(e["tarball"]) for e in todo if not e["tarball"].exists()]
    if missing:
        parser.error("no source (git archive of the commit): " + ", ".join(missing))
    # a venv's python (one on PATH) is not an interpreter to build from; of the rest, the last
    # found for a version (for 3.11 here: Debian's own, as on a fresh bookworm system)
    pythons = {
        i.minor: i.path
        for i in find_interpreters()
        if not (Path(i.path).parent.parent / "pyvenv.cfg").exists()
    }
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"running as uid {os.getuid()}: bulletproof may install system packages", flush=True)
    results = [run_project(e, pythons, pyright, env) for e in todo]
    if args.json:
        if args.only and args.json.exists():
            done = {r["key"] for r in results}
            kept = [r for r in json.loads(args.json.read_text()) if r["key"] not in done]
            order = [e["key"] for e in entries([])]
            results = sorted(kept + results, key=lambda r: order.index(r["key"]))
        args.json.write_text(json.dumps(clean(results), indent=2) + "\n")
    print(table(results))
    if args.markdown:
        args.markdown.write_text(table(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

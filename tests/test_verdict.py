"""What a failed import means, on errors worded here (no package the rules name), and what the
project's code imports, read from its AST."""

from __future__ import annotations

from pathlib import Path

from bulletproof.code.codeimports import code_imports, local_names
from bulletproof.model import Config, Project
from bulletproof.verify.modules import public_submodules
from bulletproof.verify.values import (
    FailureKind,
    ImportStatus,
    Judged,
    ModuleCheck,
    Verdict,
    Verification,
)
from bulletproof.verify.verdict import judge


def _project(root: Path) -> Project:
    return Project(
        root=root,
        name="mine",
        pyproject=None,
        requirement_files=(),
        dependencies=(),
        requires_python=None,
        config=Config(),
        installable=True,
        own_packages=("mine",),
        source_roots=(root,),
    )


def _failed(module: str, dist: str, error: str) -> ModuleCheck:
    return ModuleCheck(module, dist, ImportStatus.FAILED, 0.0, error)


def test_each_meaning_of_a_failed_import(tmp_path: Path) -> None:
    own_file = tmp_path / "mine" / "core.py"
    imports = {i.module: i for i in _imports(tmp_path)}
    failed = [
        # a submodule needing a module its distribution does not require: optional
        _failed("zorblax.plot", "zorblax", "ModuleNotFoundError: No module named 'quuxplot'"),
        # a top-level module that needs what nothing provides: the environment's (broken)
        _failed("frobnik", "frobnik", "ModuleNotFoundError: No module named 'gizmo_core'"),
        # a package that words a missing module its own way, carrying the real cause
        _failed(
            "zorblax.css",
            "zorblax",
            "ImportError: please install the css helper "
            "[caused by ModuleNotFoundError: No module named 'csshelp']",
        ),
        # a lazy package whose submodule needs a missing library: broken, never optional
        _failed("zorblax.native", "zorblax", "OSError: libzorb.so.3: cannot open shared object"),
        # the project's own code
        _failed(
            "mine.core", "mine", f"NameError: name 'undefined_thing' is not defined ({own_file}:3)"
        ),
        # imported by the project's code, and nothing installed provides it: undeclared
        _failed(
            "plinkety.sub", "mine (its code)", "ModuleNotFoundError: No module named 'plinkety'"
        ),
        # imported only inside try/except ImportError
        _failed("fastjsonish", "mine (its code)", "ModuleNotFoundError: No module named 'x'"),
        # a sibling imported by a bare name where the file runs as a script
        _failed("_swigged", "mine (its code)", "ModuleNotFoundError: No module named '_swigged'"),
        # a name another package no longer has
        _failed("oldplug", "oldplug", "ImportError: cannot import name 'gone' from 'hostlib' (x)"),
        # a submodule that refuses to load outside its context
        _failed("zorblax.doctestonly", "zorblax", "LookupError: only inside a doctest (z.py:4)"),
        # a submodule that needs its package's compiled part, which was not built
        _failed("zorblax.fastpath", "zorblax", "ModuleNotFoundError: No module named 'zorblax._c'"),
    ]
    provided = {"zorblax", "frobnik", "oldplug", "hostlib"}
    judged = {j.module: j.kind for j in judge(failed, _project(tmp_path), provided, imports, {})}
    assert judged == {
        "zorblax.plot": FailureKind.OPTIONAL,
        "frobnik": FailureKind.BROKEN,
        "zorblax.css": FailureKind.OPTIONAL,
        "zorblax.native": FailureKind.BROKEN,
        "mine.core": FailureKind.OWN_CODE,
        "plinkety.sub": FailureKind.UNDECLARED,
        "fastjsonish": FailureKind.GUARDED,
        "_swigged": FailureKind.GUARDED,
        "oldplug": FailureKind.INCOMPATIBLE,
        "zorblax.doctestonly": FailureKind.UPSTREAM,
        "zorblax.fastpath": FailureKind.OPTIONAL,
    }


def test_a_part_for_another_platform_is_not_a_failure_here(tmp_path: Path) -> None:
    """A submodule that refuses, in words of its own, to load on a system it is not for; a
    message that names no platform, or a missing module, stays what it was."""
    failed = [
        _failed(
            "zorblax._ntconsole",
            "zorblax",
            "ImportError: zorblax._ntconsole works on Windows only (z.py:2)",
        ),
        _failed("mine._osxbits", "mine", "ImportError: this part requires macOS (m.py:1)"),
        _failed(
            "zorblax._plain", "zorblax", "ImportError: the plain part is not available (z.py:9)"
        ),
        _failed("zorblax._nt", "zorblax", "ModuleNotFoundError: No module named '_winapi_only'"),
    ]
    found = {j.module: j for j in judge(failed, _project(tmp_path), {"zorblax"}, {}, {})}
    assert found["zorblax._ntconsole"].kind is FailureKind.UPSTREAM
    assert found["zorblax._ntconsole"].why.startswith("it is for Windows only")
    assert found["mine._osxbits"].kind is FailureKind.UPSTREAM
    assert found["zorblax._plain"].kind is FailureKind.BROKEN
    assert found["zorblax._nt"].kind is not FailureKind.UPSTREAM


def test_a_missing_top_level_module_is_optional_when_an_extra_brings_it(tmp_path: Path) -> None:
    failed = [_failed("frobd", "frob", "ModuleNotFoundError: No module named 'aioserve'")]
    extras = {"frob": {"serve": {"aioserve"}}}
    (verdict,) = judge(failed, _project(tmp_path), {"frob", "frobd"}, {}, extras)
    assert verdict.kind is FailureKind.OPTIONAL and "--extra serve of frob" in verdict.why


def _imports(root: Path) -> list:  # type: ignore[type-arg]
    files = {
        "mine/__init__.py": "",
        "mine/core.py": "import os\nimport plinkety.sub\nfrom zorblax import draw\n"
        "try:\n    import fastjsonish\nexcept ImportError:\n    fastjsonish = None\n"
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import typeonly\n"
        "from . import sibling\n"
        "if __package__:\n    from . import _swigged\nelse:\n    import _swigged\n",
        "tests/helpers.py": "",
        "tests/test_core.py": "import helpers\nimport pytest\n",
        "setup.py": "import setuptools\n",
        "docs/conf.py": "import sphinx_theme_x\n",
        "broken.py": "def (:\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    found, unparsable = code_imports(root)
    assert unparsable and unparsable[0].startswith("broken.py:1")
    return found


def test_code_imports_from_the_ast(tmp_path: Path) -> None:
    found = {i.module: i for i in _imports(tmp_path)}
    assert "os" not in found and "typing" not in found  # the standard library
    assert set(found) == {
        "plinkety.sub",
        "zorblax",
        "fastjsonish",
        "typeonly",
        "helpers",
        "pytest",
        "_swigged",
    }
    assert found["fastjsonish"].guarded and found["typeonly"].guarded
    # the script branch's bare import of what the package imports relatively: a sibling
    assert found["_swigged"].script_sibling and not found["fastjsonish"].script_sibling
    assert not found["plinkety.sub"].guarded and found["plinkety.sub"].where == "mine/core.py:2"
    assert "setuptools" not in found and "sphinx_theme_x" not in found  # build script, docs
    assert "helpers" in local_names(tmp_path)


def test_public_submodules_from_record() -> None:
    record = [
        "zorb/__init__.py",
        "zorb/plot.py",
        "zorb/_private.py",
        "zorb/tests/__init__.py",
        "zorb/io/__init__.py",
        "zorb/io/deep.py",
        "zorb/fast.cpython-312-x86_64-linux-gnu.so",
        "zorb/data/notes.txt",
        "zorb/zorb.abi3.so",  # the package's own implementation, loaded by zorb itself
    ]
    assert public_submodules(record, ["zorb"]) == ["zorb.fast", "zorb.io", "zorb.plot"]


def test_an_undeclared_import_is_looked_for_in_the_projects_own_groups_first(
    tmp_path: Path,
) -> None:
    from bulletproof.mitigate.undeclared import proposals

    project = _project(tmp_path)
    found = proposals("yaml", project, ["sphinx==8", "PyYAML==6.0.1"])
    assert [a.requirement for a in found] == ["PyYAML==6.0.1", "PyYAML"]
    assert found[0].reason == "named in the project's own extras or groups"
    # a name nothing knows: the distribution of the same name only when its wheel ships it
    assert proposals("zq_widgets", project, []) == []
    ships = proposals(
        "zq_widgets", project, [], provides=lambda d, m: (d, m) == ("zq-widgets", "zq_widgets")
    )
    assert [a.requirement for a in ships] == ["zq-widgets"]


def test_a_module_the_standard_library_no_longer_has(tmp_path: Path) -> None:
    """On 3.13, a top-level module importing ``telnetlib`` (removed in 3.13) is broken, not an
    undeclared import looked for on the index; a dependency's submodule that needs it is an
    optional part; on 3.12 the same failure is read as any missing module."""
    failed = [
        _failed("zorbnet", "zorbnet", "ModuleNotFoundError: No module named 'telnetlib'"),
        _failed("zorbnet.legacy", "zorbnet", "ModuleNotFoundError: No module named 'telnetlib'"),
    ]
    project = _project(tmp_path)
    on_313 = judge(failed, project, {"zorbnet"}, {}, {}, python_minor="3.13")
    assert [j.kind for j in on_313] == [FailureKind.BROKEN, FailureKind.OPTIONAL]
    assert "no longer has since Python 3.13" in on_313[0].why
    on_312 = judge(failed, project, {"zorbnet"}, {}, {}, python_minor="3.12")
    assert "standard library" not in on_312[0].why


def _verification(judged: dict[str, FailureKind]) -> Verification:
    failed = tuple(
        ModuleCheck(m, "zqdist", ImportStatus.FAILED, 0.1, "ImportError: zq") for m in judged
    )
    ok = (ModuleCheck("zqdist", "zqdist", ImportStatus.OK, 0.1),)
    meanings = tuple(Judged(m, "zqdist", k, "why") for m, k in judged.items())
    return Verification(ok + failed, True, "", (), 10, 1, judged=meanings)


def test_what_decides_the_verdict_is_what_the_project_uses() -> None:
    # a dependency's submodule the project does not import: listed, and still verified
    for kind in (FailureKind.OPTIONAL, FailureKind.UPSTREAM, FailureKind.UNREACHED):
        assert _verification({"zqdist.part": kind}).verdict is Verdict.VERIFIED, kind
        # a distribution's top-level module is what a requirement is for: not verified
        assert _verification({"zqtop": kind}).verdict is Verdict.USABLE, kind
    # what the user must look at keeps exit 4; what the environment must fix is broken
    for kind in (FailureKind.OWN_CODE, FailureKind.GUARDED, FailureKind.INCOMPATIBLE):
        assert _verification({"zqdist.part": kind}).verdict is Verdict.USABLE, kind
    for kind in (FailureKind.BROKEN, FailureKind.UNDECLARED):
        mixed = {"zqdist.part": FailureKind.OPTIONAL, "zqdist.other": kind}
        assert _verification(mixed).verdict is Verdict.BROKEN, kind

"""What an environment needs from the system at run time, on compiled files built in the test: a
library the system ships (zlib), one the environment ships itself through its RPATH (as
auditwheel leaves them), one beside the module, and one nobody has any more."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bulletproof.verify.elfneeded import dynamic
from bulletproof.verify.runtimelibs import runtime_needs

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")


def _cc(out: Path, source: str, *flags: str) -> Path:
    c = out.with_suffix(".c")
    c.write_text(source)
    subprocess.run(["cc", "-shared", "-fPIC", str(c), "-o", str(out), *flags], check=True)
    c.unlink()
    return out


def _env(tmp_path: Path) -> Path:
    env = tmp_path / "env"
    site = env / "lib" / "python3.12" / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg.libs").mkdir()
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return env


def test_a_system_library_is_named_with_its_package_and_shipped_ones_are_not(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    site = env / "lib" / "python3.12" / "site-packages"
    bundled = _cc(site / "pkg.libs" / "libzqbundled-1a2b.so", "int zq_b(void){return 1;}\n")
    beside = _cc(site / "pkg" / "libzqbeside.so", "int zq_s(void){return 2;}\n")
    gone = _cc(tmp_path / "libzqgone.so", "int zq_g(void){return 3;}\n")
    module = _cc(
        site / "pkg" / "_fast.cpython-312-x86_64-linux-gnu.so",
        "#include <zlib.h>\nint zq_b(void); int zq_s(void); int zq_g(void);\n"
        "void *PyInit__fast(void){\n"
        "  return (void*)(long)(zq_b() + zq_s() + zq_g() + (int)zlibVersion()[0]);\n}\n",
        f"-L{bundled.parent}",
        "-lzqbundled-1a2b",
        f"-L{beside.parent}",
        "-lzqbeside",
        f"-L{gone.parent}",
        "-lzqgone",
        "-lz",
        "-Wl,-rpath,$ORIGIN/../pkg.libs",
    )
    gone.unlink()
    found = dynamic(module)
    assert found is not None
    assert {"libz.so.1", "libzqgone.so", "libzqbundled-1a2b.so"} <= set(found.needed)
    assert "$ORIGIN/../pkg.libs" in found.search

    needs = runtime_needs(env)
    assert "libzqbundled-1a2b.so" not in needs.libraries  # shipped, found through its RPATH
    assert "libzqbeside.so" not in needs.libraries  # shipped beside the module
    assert {"libz.so.1", "libzqgone.so"} <= set(needs.libraries)
    assert "libzqgone.so" in needs.unresolved
    assert "libz.so.1" not in needs.unresolved
    if shutil.which("dpkg"):  # the package Debian ships zlib in, asked of dpkg, not of us
        owner = subprocess.run(
            ["dpkg", "-S", "libz.so.1"], capture_output=True, text=True, check=True
        ).stdout
        assert owner.split(":")[0] in needs.packages, (owner, needs)


def test_an_environment_of_pure_python_needs_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    (env / "lib" / "python3.12" / "site-packages" / "pkg" / "__init__.py").write_text("x = 1\n")
    assert runtime_needs(env).libraries == ()


def test_a_file_that_is_not_elf_is_not_read(tmp_path: Path) -> None:
    odd = tmp_path / "libodd.so"
    odd.write_bytes(b"not an elf file at all")
    assert dynamic(odd) is None

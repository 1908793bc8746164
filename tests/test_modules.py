import subprocess
from pathlib import Path

from bulletproof.verify.modules import (
    extension_files,
    importable_modules,
    not_modules,
    package_modules,
)


def test_google_auth_like_record_gives_real_packages_not_top_level_txt_names() -> None:
    # google-auth's top_level.txt says google, scripts, testing; what it installs is below
    record = [
        "google/auth/__init__.py",
        "google/auth/crypt/__init__.py",
        "google/oauth2/__init__.py",
        "google_auth-2.36.0.dist-info/METADATA",
        "google_auth-2.36.0.dist-info/top_level.txt",
    ]
    assert importable_modules(record) == ["google.auth", "google.oauth2"]


def test_modules_extensions_pth_data_and_scripts() -> None:
    record = [
        "six.py",
        "_cffi_backend.cpython-312-x86_64-linux-gnu.so",
        "yaml/__init__.py",
        "yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
        "distutils-precedence.pth",
        "../../../bin/black",
        "PyYAML.libs/libyaml-1.so",
        "3204bda914b7f2c6f497__mypyc.so",
        "pkg-1.0.data/scripts/tool",
        "__pycache__/six.cpython-312.pyc",
        "README.md",
        "odd.abi3.so",
        "__main__.py",
    ]
    assert importable_modules(record) == ["_cffi_backend", "odd", "six", "yaml"]


def test_namespace_with_loose_modules_and_nested_namespaces() -> None:
    record = [
        "opentelemetry/environment_variables.py",
        "opentelemetry/trace/__init__.py",
        "opentelemetry/trace/span.py",
        "opentelemetry/py.typed",
        "opentelemetry/instrumentation/auto/__init__.py",
        "opentelemetry/instrumentation/x.py",
    ]
    assert importable_modules(record) == [
        "opentelemetry.environment_variables",
        "opentelemetry.instrumentation.auto",
        "opentelemetry.instrumentation.x",
        "opentelemetry.trace",
    ]


def test_namespace_holding_only_data_gives_nothing() -> None:
    assert importable_modules(["share/man/man1/tool.1", "share/doc/readme.txt"]) == []


def test_package_modules_lists_every_submodule_but_main_and_loose_folders(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "loose").mkdir()
    for rel in (
        "__init__.py",
        "__main__.py",
        "core.py",
        "sub/__init__.py",
        "sub/deep.py",
        "loose/script.py",
    ):
        (pkg / rel).write_text("")
    assert package_modules(tmp_path, "app") == ["app", "app.core", "app.sub", "app.sub.deep"]


def test_extension_files_name_the_module_each_would_be_imported_as() -> None:
    record = [
        "yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
        "pkg/__init__.abi3.so",
        "pkg/libbundled.so",
        "pkg/libz.so.1",  # a versioned soname: no module's name
        "six.py",
        "PyYAML.libs/libyaml-1.so",
    ]
    assert extension_files(record) == {
        "yaml._yaml": "yaml/_yaml.cpython-312-x86_64-linux-gnu.so",
        "pkg": "pkg/__init__.abi3.so",
        "pkg.libbundled": "pkg/libbundled.so",
    }


def test_a_library_without_its_init_function_is_not_a_module(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name, source in {
        "fast": "void *PyInit_fast(void) { return 0; }\n",
        "helper": "int helper_add(int a, int b) { return a + b; }\n",
    }.items():
        c = tmp_path / f"{name}.c"
        c.write_text(source)
        out = tmp_path / "pkg" / f"{name}.abi3.so"
        subprocess.run(["cc", "-shared", "-fPIC", str(c), "-o", str(out)], check=True)
    (tmp_path / "pkg" / "notelf.abi3.so").write_text("text")  # unreadable: still a module
    record = ["pkg/__init__.py", "pkg/fast.abi3.so", "pkg/helper.abi3.so", "pkg/notelf.abi3.so"]
    modules = ["pkg", "pkg.fast", "pkg.helper", "pkg.notelf"]
    assert not_modules(tmp_path, extension_files(record), modules) == {
        "pkg.helper": (
            "not a Python module (no PyInit_helper): a shared library shipped in the package"
        )
    }

from pathlib import Path

from bulletproof.verify.modules import importable_modules, package_modules


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

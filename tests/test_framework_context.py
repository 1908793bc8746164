"""The project's own modules are imported as the project runs them (a Django project with the
settings module its manage.py names, its app registry set up; the root as working directory,
its pytest configuration's pythonpath), and a module that still needs its framework's context
is reported as needing it, never as a broken environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bulletproof.code.codeimports import code_imports
from bulletproof.model import Config, Project
from bulletproof.proc import uv_bin
from bulletproof.project import discover
from bulletproof.verify.context import ImportContext, import_context
from bulletproof.verify.imports import ImportJob, import_all
from bulletproof.verify.run import verify
from bulletproof.verify.values import FailureKind, ImportStatus, ModuleCheck, Verdict, Verification
from bulletproof.verify.verdict import judge

_MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zqsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


# --- where the context is read from ---------------------------------------------------------


def test_the_settings_module_is_read_from_manage_py_first(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(_MANAGE)
    (tmp_path / "zqsite").mkdir()
    (tmp_path / "zqsite" / "wsgi.py").write_text(
        'import os\nos.environ["DJANGO_SETTINGS_MODULE"] = "zqsite.production"\n'
    )
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nDJANGO_SETTINGS_MODULE = zqsite.test_settings\npythonpath = lib tools\n"
    )
    found = import_context(tmp_path, (tmp_path,), {})
    assert found.value("DJANGO_SETTINGS_MODULE") == "zqsite.settings"
    assert found.setup == (("django", "setup"),)
    assert found.cwd == tmp_path
    # pytest's pythonpath first, in order, then manage.py's own folder (as running it does)
    assert found.path == (str(tmp_path / "lib"), str(tmp_path / "tools"), str(tmp_path))
    assert "DJANGO_SETTINGS_MODULE=zqsite.settings (manage.py:5)" in found.describe()
    assert found.files == (tmp_path / "pytest.ini",)
    # what the environment sets wins, as manage.py's setdefault lets it
    given = import_context(tmp_path, (tmp_path,), {"DJANGO_SETTINGS_MODULE": "zqsite.mine"})
    assert given.value("DJANGO_SETTINGS_MODULE") == "zqsite.mine"
    assert "(the environment)" in given.describe()
    # without manage.py, the entry point a server loads
    (tmp_path / "manage.py").unlink()
    assert import_context(tmp_path, (), {}).value("DJANGO_SETTINGS_MODULE") == "zqsite.production"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\nDJANGO_SETTINGS_MODULE = conf.testing\npythonpath = src\n"),
        (
            "pyproject.toml",
            '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "conf.testing"\n'
            'pythonpath = ["src"]\n',
        ),
        ("setup.cfg", "[tool:pytest]\naddopts = -q --ds=conf.testing\npythonpath = src\n"),
        ("tox.ini", "[pytest]\naddopts = --ds conf.testing\npythonpath = src\n"),
    ],
)
def test_pytest_django_configuration_names_it_when_no_entry_point_does(
    tmp_path: Path, name: str, text: str
) -> None:
    (tmp_path / name).write_text(text)
    (tmp_path / "src" / "conf").mkdir(parents=True)
    (tmp_path / "src" / "conf" / "__init__.py").write_text("")
    (tmp_path / "src" / "conf" / "testing.py").write_text("")
    found = import_context(tmp_path, (), {})
    assert found.value("DJANGO_SETTINGS_MODULE") == "conf.testing"
    assert found.path == (str(tmp_path / "src"),)
    assert f"({name})" in found.describe()


def test_a_project_with_no_framework_gets_its_root_and_nothing_else(tmp_path: Path) -> None:
    found = import_context(tmp_path, (tmp_path,), {})
    assert found == ImportContext(cwd=tmp_path)


# --- the worker enters the context for the project's modules only ----------------------------


def test_the_projects_modules_run_from_its_root_with_its_pythonpath(
    uv_venv: Path, tmp_path: Path
) -> None:
    root = tmp_path / "zqproj"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "zqhelper.py").write_text("NAME = 'helper'\n")
    (root / "zqdata.txt").write_text("from the root\n")
    (root / "zqapp").mkdir()
    (root / "zqapp" / "__init__.py").write_text("")
    # opens a file by a relative path, imports from a folder only pytest's pythonpath adds,
    # and reads the settings variable its entry point sets
    (root / "zqapp" / "reads.py").write_text(
        "import os\nimport zqhelper\n"
        "TEXT = open('zqdata.txt').read()\n"
        "SETTINGS = os.environ['ZQ_SETTINGS_MODULE']\n"
    )
    site = next(uv_venv.glob("lib/python*/site-packages"))
    (site / "zqdep.py").write_text("import os\nCWD = os.getcwd()\n")
    context = ImportContext(
        cwd=root, path=(str(root / "lib"),), environ=(("ZQ_SETTINGS_MODULE", "zqapp.conf"),)
    )
    python = uv_venv / "bin" / "python"
    jobs = [ImportJob("zqapp.reads", "zqproj", in_context=True)]
    outside, inside = (
        import_all(python, jobs, extra_path=[str(root)], context=c, workers=1)[0]
        for c in (None, context)
    )
    assert outside.status is ImportStatus.FAILED, outside
    assert inside.status is ImportStatus.OK, inside.error
    # a dependency's own module is not moved into the project's context
    plain = import_all(python, [ImportJob("zqdep", "zqdep")], context=context)
    assert plain[0].status is ImportStatus.OK


# --- what a module that needs its framework's context is judged ------------------------------


def _project(root: Path) -> Project:
    return Project(
        root=root,
        name="zqsite",
        pyproject=None,
        requirement_files=(),
        dependencies=(),
        requires_python=None,
        config=Config(),
        installable=False,
        own_packages=("zqsite", "polls"),
        source_roots=(root,),
    )


def _failed(module: str, dist: str, error: str) -> ModuleCheck:
    return ModuleCheck(module, dist, ImportStatus.FAILED, 0.0, error)


def test_a_module_that_needs_its_frameworks_context_is_not_the_environments(
    tmp_path: Path,
) -> None:
    (tmp_path / "polls").mkdir()
    (tmp_path / "polls" / "views.py").write_text("from django.contrib.auth.models import User\n")
    imports = {i.module: i for i in code_imports(tmp_path)[0]}
    settled = ImportContext(
        cwd=tmp_path,
        environ=(("DJANGO_SETTINGS_MODULE", "zqsite.settings"),),
        said=("DJANGO_SETTINGS_MODULE=zqsite.settings (manage.py:5)",),
    )
    unset = (
        "ImproperlyConfigured: Requested setting INSTALLED_APPS, but settings are not "
        "configured. You must either define the environment variable DJANGO_SETTINGS_MODULE "
        "or call settings.configure() before accessing settings. (/v/django/conf/__init__.py:81)"
    )
    failed = [
        # the project's own module raising ImproperlyConfigured on purpose, in its own file
        _failed(
            "polls.strict",
            "zqsite",
            f"ImproperlyConfigured: ZQ_BACKEND names no backend ({tmp_path}/polls/strict.py:3)",
        ),
        # a dependency's module the project's code imports, with no settings at all
        _failed("django.contrib.auth.models", "zqsite (its code)", unset),
        # a top-level module of the project's, the app registry not ready
        _failed("zqtool", "zqsite", "AppRegistryNotReady: Apps aren't loaded yet."),
        # Flask's context
        _failed(
            "polls.flaskish",
            "zqsite",
            "RuntimeError: Working outside of application context. (/v/flask/globals.py:1)",
        ),
        # django-environ's words for an unset variable: the variable's, as os.environ[...]
        _failed(
            "zqsite.settings",
            "zqsite",
            "ImproperlyConfigured: Set the ZQ_SECRET environment variable (/v/environ.py:9)",
        ),
        # setup failed for an app its settings name that nothing installed provides
        _failed(
            "polls.models",
            "zqsite",
            "AppRegistryNotReady: Apps aren't loaded yet. (/v/django/apps/registry.py:138) "
            "[context: django.setup() failed: ModuleNotFoundError: No module named "
            "'zq_missing_app' (<frozen importlib._bootstrap>:1324)]",
        ),
        # a module that refuses on its own words, whatever setup said
        _failed(
            "polls.strict_too",
            "zqsite",
            "ImproperlyConfigured: ZQ_BACKEND names no backend "
            "[context: django.setup() failed: ModuleNotFoundError: No module named "
            "'zq_missing_app' (<frozen importlib._bootstrap>:1324)]",
        ),
        # setup failed in the project's own code: still the context's, and said
        _failed(
            "polls.admin",
            "zqsite",
            "AppRegistryNotReady: Apps aren't loaded yet. "
            "[context: django.setup() failed: ValueError: zq bad LOGGING (/p/settings.py:9)]",
        ),
    ]
    judged = {
        j.module: j
        for j in judge(failed, _project(tmp_path), {"django"}, imports, {}, context=settled)
    }
    kinds = {m: j.kind for m, j in judged.items()}
    assert kinds == {
        "polls.strict": FailureKind.CONTEXT,
        "django.contrib.auth.models": FailureKind.CONTEXT,
        "zqtool": FailureKind.CONTEXT,
        "polls.flaskish": FailureKind.CONTEXT,
        "zqsite.settings": FailureKind.OWN_CODE,
        "polls.models": FailureKind.UNDECLARED,
        "polls.strict_too": FailureKind.CONTEXT,
        "polls.admin": FailureKind.CONTEXT,
    }
    assert "needs Django's context" in judged["polls.strict"].why
    assert "DJANGO_SETTINGS_MODULE=zqsite.settings (manage.py:5)" in judged["polls.strict"].why
    assert "needs Flask's context" in judged["polls.flaskish"].why
    assert "ZQ_SECRET" in judged["zqsite.settings"].why
    assert "zq_missing_app is needed by Django's setup" in judged["polls.models"].why
    assert "zq bad LOGGING" in judged["polls.admin"].why
    # with nothing in the project naming the settings, the why says to set it
    alone = judge(failed[1:2], _project(tmp_path), {"django"}, imports, {}, context=None)
    assert alone[0].kind is FailureKind.CONTEXT
    bare = judge(
        failed[1:2], _project(tmp_path), set(), imports, {}, context=ImportContext(tmp_path)
    )
    assert "nothing in the project names DJANGO_SETTINGS_MODULE" in bare[0].why

    # what needs a context leaves the environment verified (a submodule) or usable (a top-level
    # module), never broken
    def verdict(*names: str) -> Verdict:
        checks = tuple(m for m in failed if m.module in names)
        meant = tuple(judged[n] for n in names)
        return Verification(checks, True, "", (), 1, 1, judged=meant).verdict

    assert verdict("polls.strict", "django.contrib.auth.models") is Verdict.VERIFIED
    assert verdict("polls.strict", "zqtool") is Verdict.USABLE
    assert verdict("polls.strict", "polls.models") is Verdict.BROKEN


# --- a real Django project ---------------------------------------------------------------------


def _django_project(root: Path, *, apps: str = "") -> Path:
    """manage.py naming the settings, an app with a model, a module that reads a setting at
    import and one that refuses to load on purpose."""
    (root / "zqsite").mkdir(parents=True)
    (root / "polls").mkdir()
    (root / "requirements.txt").write_text("django>=4.2,<6\n")
    (root / "manage.py").write_text(_MANAGE)
    (root / "zqsite" / "__init__.py").write_text("")
    (root / "zqsite" / "settings.py").write_text(
        "SECRET_KEY = 'zq-not-secret'\n"
        "INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth', 'polls'"
        f"{apps}]\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'zq.db'}}\n"
        "USE_TZ = True\nZQ_GREETING = 'hello'\n"
    )
    (root / "polls" / "__init__.py").write_text("")
    (root / "polls" / "models.py").write_text(
        "from django.db import models\n\n\nclass Question(models.Model):\n"
        "    text = models.CharField(max_length=200)\n"
    )
    (root / "polls" / "greeting.py").write_text(
        "from django.conf import settings\n\nGREETING = settings.ZQ_GREETING\n"
    )
    (root / "polls" / "strict.py").write_text(
        "from django.core.exceptions import ImproperlyConfigured\n\n"
        "raise ImproperlyConfigured('ZQ_BACKEND names no backend this site knows')\n"
    )
    return root


@pytest.fixture(scope="module")
def django_env(tmp_path_factory: pytest.TempPathFactory, python312: Path) -> Path:
    """A venv with Django from the package index (uv's cache keeps it for the next run)."""
    env = tmp_path_factory.mktemp("django") / "venv"
    uv = uv_bin()
    subprocess.run([uv, "venv", str(env), "--python", str(python312), "-q"], check=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(env / "bin" / "python"), "django>=4.2,<6"],
        check=True,
    )
    return env


@pytest.mark.registry
@pytest.mark.slow
def test_a_django_project_is_imported_with_its_settings(django_env: Path, tmp_path: Path) -> None:
    root = _django_project(tmp_path / "zqsite")
    done = verify(django_env, discover(root), cache_results=False)
    status = {m.module: m for m in done.modules}
    for module in ("zqsite.settings", "polls.models", "polls.greeting"):
        assert status[module].status is ImportStatus.OK, status[module].error
    judged = {j.module: j for j in done.judged}
    assert set(judged) == {"polls.strict"}, judged
    assert judged["polls.strict"].kind is FailureKind.CONTEXT
    assert "ZQ_BACKEND names no backend" in judged["polls.strict"].why
    assert "DJANGO_SETTINGS_MODULE=zqsite.settings (manage.py:5)" in judged["polls.strict"].why
    assert done.verdict is Verdict.VERIFIED
    assert not (root / "zq.db").exists()  # imported, never run: no database made

    # nothing names the settings: the models need Django's context; the environment is not
    # what failed
    (root / "manage.py").write_text("print('no settings here')\n")
    bare = verify(django_env, discover(root), cache_results=False)
    judged = {j.module: j for j in bare.judged}
    assert judged["polls.models"].kind is FailureKind.CONTEXT
    assert "nothing in the project names DJANGO_SETTINGS_MODULE" in judged["polls.models"].why
    assert bare.verdict is not Verdict.BROKEN


@pytest.mark.registry
@pytest.mark.slow
def test_an_app_the_settings_name_that_nothing_provides_is_undeclared(
    django_env: Path, tmp_path: Path
) -> None:
    root = _django_project(tmp_path / "zqsite", apps=", 'zq_missing_app'")
    done = verify(django_env, discover(root), cache_results=False)
    judged = {j.module: j for j in done.judged}
    assert judged["polls.models"].kind is FailureKind.UNDECLARED, judged["polls.models"]
    assert "zq_missing_app is needed by Django's setup" in judged["polls.models"].why
    assert judged["polls.strict"].kind is FailureKind.CONTEXT  # refuses whatever setup did
    # what the repair engine is given to look for: the app's module, named in the error
    failed = {m.module: m for m in done.failed_modules}
    assert "No module named 'zq_missing_app'" in failed["polls.models"].error
    assert done.verdict is Verdict.BROKEN

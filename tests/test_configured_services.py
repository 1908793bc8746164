"""Services named outside a variable's value, from sample code written here: a Django settings
module (the one manage.py names, built on a base by a star import, values read from variables
with defaults), URLs in a config file the code names and in alembic.ini, and literals in the
code, which are probed but do not gate. Names are invented so that no rule can know them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bulletproof.code.configured import configured_services
from bulletproof.prove.results import (
    CaseOutcome,
    CaseResult,
    ProofReport,
    ServiceCheck,
    SuiteReport,
)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_django_settings_module_in_use_with_its_base_and_variables(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'zqsite.settings.dev')\n",
            "zqsite/__init__.py": "",
            "zqsite/settings/__init__.py": "",
            "zqsite/settings/base.py": (
                "import os\n"
                "DATABASES = {\n"
                "    'default': {\n"
                "        'ENGINE': 'django.db.backends.postgresql',\n"
                "        'NAME': os.environ.get('ZQ_DB_NAME', 'zqdb'),\n"
                "        'USER': os.getenv('ZQ_DB_USER', 'zquser'),\n"
                "        'PASSWORD': os.environ['ZQ_DB_PASSWORD'],\n"
                "        'HOST': '127.0.0.1',\n"
                "        'PORT': 6544,\n"
                "    },\n"
                "    'reports': {'ENGINE': 'django.db.backends.mysql', 'NAME': 'r',\n"
                "                'HOST': 'db1'},\n"
                "    'cache': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': 'x.sqlite3'},\n"
                "}\n"
            ),
            "zqsite/settings/dev.py": "from .base import *  # noqa\nDEBUG = True\n",
            # another settings module that is not the one in use
            "zqsite/settings/prod.py": (
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql',"
                " 'HOST': 'prod.invalid', 'NAME': 'p'}}\n"
            ),
        },
    )
    found = configured_services(tmp_path, {}, {"ZQ_DB_PASSWORD": "p@ss word"})
    assert [(s.setting, s.source, s.url, s.host, s.port) for s in found] == [
        (
            "DATABASES['default']",
            "zqsite/settings/base.py:2",
            "postgresql://zquser:p%40ss%20word@127.0.0.1:6544/zqdb",
            "127.0.0.1",
            6544,
        ),
        ("DATABASES['reports']", "zqsite/settings/base.py:2", "mysql://db1:3306/r", "db1", 3306),
    ]
    # the environment names another settings module: that one is read
    found = configured_services(tmp_path, {"DJANGO_SETTINGS_MODULE": "zqsite.settings.prod"}, {})
    assert [(s.host, s.url) for s in found] == [
        ("prod.invalid", "postgresql://prod.invalid:5432/p")
    ]


def test_an_unset_password_and_no_host_follow_the_client_defaults(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "zqapp/settings.py": (
                "import os\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql',"
                " 'NAME': 'zq', 'USER': 'me'}}\n"
            )
        },
    )
    [service] = configured_services(tmp_path, {}, {})
    # no HOST: the local socket, as Django connects; the TCP fallback asks localhost
    assert (service.url, service.host, service.port) == ("postgresql://me@/zq", "localhost", 5432)


def test_a_value_computed_in_a_way_not_followed_is_not_guessed(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "zqapp/settings.py": (
                "HOSTS = ['a', 'b']\nDATABASES = {'default': {'ENGINE': "
                "'django.db.backends.postgresql', 'NAME': 'zq', 'HOST': HOSTS[0]}}\n"
            )
        },
    )
    assert configured_services(tmp_path, {}, {}) == []


def test_urls_in_config_files_the_code_names_and_in_alembic_ini(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "zqtool/__init__.py": (
                "import yaml\n\ndef settings():\n"
                "    return yaml.safe_load(open('conf/zq-local.yaml'))\n"
            ),
            "conf/zq-local.yaml": (
                "# queue: amqp://old@10.9.9.9/  (a comment: not read)\n"
                "queue:\n  url: amqp://zq:pw@127.0.0.1:5679/vhost\n"
                "cache_url: 'redis://{host}:6379/0'  # a template: no host\n"
            ),
            "conf/unnamed.yaml": "db: postgresql://127.0.0.1:5999/none\n",  # nothing reads it
            "alembic.ini": (
                "[alembic]\nscript_location = migrations\n"
                "sqlalchemy.url = postgresql+psycopg2://zq@127.0.0.1:5433/zqmig\n"
            ),
        },
    )
    found = configured_services(tmp_path, {}, {})
    assert [(s.setting, s.source, s.scheme, s.port, s.gates) for s in found] == [
        ("sqlalchemy.url", "alembic.ini:3", "postgresql", 5433, True),
        ("url", "conf/zq-local.yaml:3", "amqp", 5679, True),
    ]


def test_literals_in_the_code_are_found_but_do_not_gate(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "zqjobs/worker.py": (
                '"""Run with a broker such as redis://example.invalid:6379/0."""\n'
                "from celery import Celery\n\n"
                "app = Celery('zqjobs', broker='amqp://guest@127.0.0.1:5680//')\n"
                "SHOWN = 'see https://127.0.0.1:8000/docs'\n"
            ),
            "tests/test_worker.py": "URL = 'redis://127.0.0.1:6390/1'\n",  # the tests' own
        },
    )
    [service] = configured_services(tmp_path, {}, {})
    assert (service.source, service.scheme, service.port, service.gates) == (
        "zqjobs/worker.py:4",
        "amqp",
        5680,
        False,
    )


def test_a_failed_literal_is_reported_but_only_a_setting_fails_the_gate(tmp_path: Path) -> None:
    _write(tmp_path, {"zqjobs/worker.py": "BROKER = 'amqp://guest@127.0.0.1:5681//'\n"})
    [literal] = configured_services(tmp_path, {}, {})
    setting = replace(literal, setting="ZQ_BROKER", source=".env", gates=True)
    passed = CaseResult("tests/test_x.py::test_x", CaseOutcome.PASSED, 0.1)

    suite = SuiteReport(("pytest",), "tests/", (passed,), 0.1, 0)

    def report(*checks: ServiceCheck) -> ProofReport:
        return ProofReport(suite, 0.8, services=checks)

    refused = "connection refused: nothing listens on 127.0.0.1:5681"
    assert report(ServiceCheck(literal, False, "tcp", refused)).ok
    assert not report(ServiceCheck(setting, False, "tcp", refused)).ok
    # with no tests at all, a setting's service still gates: nothing stands in for a suite
    assert not replace(report(ServiceCheck(setting, False, "tcp", refused)), suite=None).ok
    assert replace(report(ServiceCheck(literal, False, "tcp", refused)), suite=None).ok

"""`prove --fresh` for real: the example project set up here (Python 3.12), then stood up by
bulletproof itself in a buildah build from a fresh Debian 12 (python3 3.11), its tests run
there, and the two environments compared. One run: a build costs minutes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.verify.fingerprint import Fingerprint
from bulletproof.verify.fingerprintdiff import Difference, What
from tests.conftest import snapshot
from tests.fresh.images import STORE, base_image
from tests.fresh.system import REPO

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
        ignore=shutil.ignore_patterns(".venv", ".bulletproof", "__pycache__"),
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

"""The lock's record (LockMeta), its file (pylock.py), the retry policy's last step and the lock
put back on failure, each on real files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import tomli_w

from bulletproof.errors import ResolutionError
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.pylock import lock_body, read_lock, read_lock_meta, write_lock
from bulletproof.lockfile.restore import restore_on_failure
from bulletproof.lockfile.retry import lock_again_without
from bulletproof.lockfile.values import AddedRequirement, MovedPin, SetAside
from bulletproof.model import Selection
from bulletproof.tomlcompat import tomllib

# as uv writes a lock: every package a [[packages]] table, local paths relative to the lock
UV_LOCK = """lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.12"

[[packages]]
name = "mine"
directory = { path = "../../libs/mine", editable = true }

[[packages]]
name = "good"
version = "1.0"
wheels = [
    { url = "https://example.org/good-1.0-py3-none-any.whl", upload-time = 2024-01-02T03:04:05Z, \
size = 5, hashes = { sha256 = "aa" } },
]
"""


def _meta() -> LockMeta:
    return LockMeta(
        input_hash="sha256:in",
        packages=2,
        python="3.12.1",
        python_path="/usr/bin/python3.12",
        python_stat="1:2",
        python_headers=True,
        machine="x86_64",
        yanked=("good==1.0",),
        base_hash="sha256:base",
        moved_pins=(MovedPin("good", "1.0", "1.1", "does not build"),),
        added=(AddedRequirement("yaml", "pyyaml", "imported, not declared"),),
        set_aside=(SetAside("bad", "lock", "not found"),),
        notes=("the team's lock honoured",),
        own_build_error="",
        selection=Selection(extras=("test",), groups=("dev",)),
    )


def test_the_table_is_read_back_as_it_was_written() -> None:
    meta = _meta()
    table = tomllib.loads(tomli_w.dumps(meta.to_table()))
    assert LockMeta.from_table(table) == meta
    assert list(table) == list(meta.to_table())  # every key, in the order always written


def test_a_table_read_from_an_older_or_damaged_lock_keeps_what_can_be_read() -> None:
    table = {
        "python": "3.11.9",
        "packages": "many",  # not a number: not recorded
        "moved-pins": [{"package": "x"}, MovedPin("y", "1", "2", "r").as_dict()],
        "set-aside": [{"cause": "no package"}, {"package": "z"}],
        "yanked": ["a==1", 3],
        "selection": "all",
    }
    meta = LockMeta.from_table(table)
    assert meta.python == "3.11.9" and meta.packages is None
    assert meta.moved_pins == (MovedPin("y", "1", "2", "r"),)
    assert meta.set_aside == (SetAside("z", "", ""),)
    assert meta.yanked == ("a==1",)
    assert meta.selection is None and meta.implementation == "cpython"


def test_a_lock_written_is_read_as_bulletproofs_and_an_edit_is_seen(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    assert read_lock(lock) == (None, None) and read_lock_meta(lock) == LockMeta()
    body = lock_body(UV_LOCK, tmp_path / ".bulletproof" / "lock-1", tmp_path)
    data = body.text.encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    meta = LockMeta(packages_hash=digest, packages=body.packages, selection=Selection())
    write_lock(lock, data, meta)
    assert read_lock(lock) == (meta, None)
    lock.write_bytes(lock.read_bytes().replace(b'name = "good"', b'name = "good"\n# by hand'))
    found, problem = read_lock(lock)
    assert found == meta and problem is not None and "edited since" in problem


def test_a_lock_made_before_the_body_was_dumped_again_is_still_bulletproofs(
    tmp_path: Path,
) -> None:
    """Locks of the earlier layout (uv's text kept as it was) hash the same way: reused."""
    lock = tmp_path / "pylock.toml"
    body = UV_LOCK.rstrip("\n").encode()
    table = {"packages-hash": "sha256:" + hashlib.sha256(body).hexdigest(), "packages": 2}
    lock.write_bytes(body + b"\n\n" + tomli_w.dumps({"tool": {"bulletproof": table}}).encode())
    meta, problem = read_lock(lock)
    assert problem is None and meta is not None and meta.packages == 2


def test_the_body_keeps_every_package_a_table_and_its_paths_where_the_lock_is_kept(
    tmp_path: Path,
) -> None:
    body = lock_body(UV_LOCK, tmp_path / ".bulletproof" / "lock-1", tmp_path)
    assert body.packages == 2 and body.text.count("[[packages]]\n") == 2
    assert body.not_pep751 == ""
    data = tomllib.loads(body.text)
    assert data["packages"][0]["directory"] == {"path": "libs/mine", "editable": True}
    assert data["packages"][1] == tomllib.loads(UV_LOCK)["packages"][1]


def test_a_lock_packaging_does_not_read_as_pep751_is_kept_and_said(tmp_path: Path) -> None:
    odd = UV_LOCK.replace("good-1.0-py3-none-any.whl", "other-1.0-py3-none-any.whl")
    body = lock_body(odd, tmp_path, tmp_path)
    assert "other-1.0-py3-none-any.whl" in body.not_pep751
    assert body.packages == 2 and tomllib.loads(body.text)["packages"][1]["name"] == "good"


def test_the_lock_is_put_back_when_the_block_raises_and_when_asked(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(b"before")
    with pytest.raises(KeyboardInterrupt), restore_on_failure(lock):
        lock.write_bytes(b"during")
        raise KeyboardInterrupt
    assert lock.read_bytes() == b"before"

    saved = restore_on_failure(lock)
    with saved:
        lock.write_bytes(b"kept")
    assert lock.read_bytes() == b"kept"  # nothing raised: the new lock stays
    saved.put_back()  # a later decision keeps the environment the old lock made
    assert lock.read_bytes() == b"before"

    absent = restore_on_failure(tmp_path / "none.toml")
    (tmp_path / "none.toml").write_bytes(b"new")
    absent.put_back()
    assert not (tmp_path / "none.toml").exists()


def test_a_lock_made_again_is_tried_once_more_after_dropping_what_was_added() -> None:
    tries: list[int] = []
    dropped: list[str] = []

    def lock_again() -> str:
        tries.append(1)
        if len(tries) == 1:
            raise ResolutionError("conflict")
        return "locked"

    assert lock_again_without(lock_again, lambda exc: dropped.append(exc.message)) == "locked"
    assert len(tries) == 2 and dropped == ["conflict"]

    def never() -> str:
        raise ResolutionError("still")

    with pytest.raises(ResolutionError, match="still"):
        lock_again_without(never, lambda exc: None)  # the second failure stands

    def nothing_added(exc: ResolutionError) -> None:
        raise RuntimeError("nothing to drop") from exc

    with pytest.raises(RuntimeError):
        lock_again_without(never, nothing_added)

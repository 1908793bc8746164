import contextlib
import fcntl
import threading
import time
from pathlib import Path

import pytest

from bulletproof.apply.generations import Store
from bulletproof.apply.statedir import OWNER_MARK
from bulletproof.errors import Busy, InputError, NothingToRollBack


def _complete(store: Store) -> Path:
    gen = store.new_generation()
    (gen.path / "pyvenv.cfg").write_text("")
    store.mark_complete(gen, {"n": gen.number})
    return gen.path


def test_switch_prune_and_rollback(tmp_path: Path) -> None:
    store = Store(tmp_path)
    paths = [_complete(store) for _ in range(3)]
    for path in paths:
        store.switch(type(store.generations()[0])(path))
    assert str((tmp_path / ".venv").readlink()) == ".bulletproof/generations/gen-0003"
    store.prune()
    assert [g.path.name for g in store.generations()] == ["gen-0002", "gen-0003"]
    assert store.rollback().generation.path.name == "gen-0002"
    assert store.current() is not None and store.current().path.name == "gen-0002"  # type: ignore[union-attr]
    with pytest.raises(NothingToRollBack):
        store.rollback()


def test_unfinished_generations_and_leftovers_are_cleared(tmp_path: Path) -> None:
    store = Store(tmp_path)
    done = _complete(store)
    store.switch(store.generations()[0])
    half = store.new_generation()
    (half.path / "bin").mkdir()
    (tmp_path / ".venv.tmp-123").symlink_to(done.relative_to(tmp_path))  # as switch makes it
    (store.trash / "gen-0000-x").mkdir(parents=True)
    assert store.clear_unfinished() == [half.path.name]
    assert [g.path for g in store.generations()] == [done]
    assert not (tmp_path / ".venv.tmp-123").exists() and not store.trash.exists()


def test_foreign_venv_is_moved_aside_never_deleted(tmp_path: Path) -> None:
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "mine.txt").write_text("keep me")
    store = Store(tmp_path)
    _complete(store)
    message = store.switch(store.generations()[0])
    assert message is not None and "moved it to .venv.moved-" in message
    moved = next(tmp_path.glob(".venv.moved-*"))
    assert (moved / "mine.txt").read_text() == "keep me"
    assert (tmp_path / ".venv").is_symlink()


def test_second_holder_waits_then_refuses(tmp_path: Path) -> None:
    store = Store(tmp_path)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.locked(1, lambda: None):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5), "the first holder never took the lock"
    waited: list[bool] = []
    start = time.monotonic()
    with (
        pytest.raises(Busy, match="another bulletproof run"),
        Store(tmp_path).locked(0.5, lambda: waited.append(True)),
    ):
        pass
    assert waited == [True] and time.monotonic() - start >= 0.5
    release.set()
    thread.join()
    with Store(tmp_path).locked(0, lambda: None):
        pass


def test_a_waiter_takes_the_new_lock_when_the_first_run_removed_the_folder_it_made(
    tmp_path: Path,
) -> None:
    """A run that created .bulletproof and failed on its input removes it; a run waiting on the
    old lock file must not go on under a lock nobody else can see."""
    held = threading.Event()
    inside: list[bool] = []

    def fail_on_input() -> None:
        with contextlib.suppress(InputError), Store(tmp_path).locked(1, lambda: None):
            held.set()
            time.sleep(0.5)
            raise InputError("bad input")

    thread = threading.Thread(target=fail_on_input)
    thread.start()
    assert held.wait(5), "the first holder never took the lock"
    with Store(tmp_path).locked(5, lambda: None):
        lock = tmp_path / ".bulletproof" / "run.lock"
        inside.append(lock.is_file() and (tmp_path / ".bulletproof" / OWNER_MARK).is_file())
        with lock.open("a") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    thread.join()
    assert inside == [True]

"""Import every module in worker processes of the environment's own interpreter, in parallel.

Each worker is a long-lived ``python -I`` that imports the names it is sent, one at a time, and
answers on a private pipe (a module that prints cannot corrupt the answers). A worker that crashes
or hangs past the per-import timeout is killed and replaced: that module is reported, the rest go
on. A failure seen in a shared worker is retried alone in a fresh one, so no module is blamed for
what another module imported before it did to the process.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulletproof.proc import child_env
from bulletproof.verify.context import ImportContext
from bulletproof.verify.libraries import unresolved_needed
from bulletproof.verify.values import ImportStatus, ModuleCheck

_WORKER = r"""
import importlib, importlib.util, json, os, re, sys, time, traceback
answers = os.fdopen(os.dup(1), "w")
requests = os.fdopen(os.dup(0), "r")
os.dup2(2, 1)  # what imported modules print goes to stderr, not into the answers
null = os.open(os.devnull, os.O_RDONLY); os.dup2(null, 0)
sys.path[:0] = json.loads(sys.argv[1])
# bytecode goes to the run's scratch folder, never a __pycache__ in the project's own tree
if hasattr(sys, "pycache_prefix"):
    sys.pycache_prefix = sys.argv[2]
else:
    sys.dont_write_bytecode = True
# Every library a module asks for by name and does not get, whatever the module then says:
# ctypes loads (CDLL, cdll.LoadLibrary, cffi's dlopen by path) and find_library lookups that
# return None (a binding that goes on to fail later, with its own words or an undefined symbol).
unloaded = []
try:
    import ctypes, ctypes.util
    _init, _find = ctypes.CDLL.__init__, ctypes.util.find_library
    def _cdll_init(self, name, *args, **kwargs):
        try:
            _init(self, name, *args, **kwargs)
        except OSError:
            if name:
                unloaded.append(os.fsdecode(name))
            raise
    def _find_library(name):
        found = _find(name)
        if found is None and name:
            unloaded.append(name)
        return found
    ctypes.CDLL.__init__, ctypes.util.find_library = _cdll_init, _find_library
except Exception:
    pass
# the dynamic loader's own report of a library it could not open (glibc, then musl)
LOADER = re.compile(r"([^\s:'\"]+\.so[.\d]*): cannot open shared object file"
                    r"|Error loading shared library ([^\s:]+)")
def at(exc):
    tb = traceback.extract_tb(exc.__traceback__)
    return " (%s:%s)" % (tb[-1].filename, tb[-1].lineno) if tb else ""
# The project's context, entered before the first module marked for it: its settings variables
# (what the environment already sets wins), its root as the working directory, the folders its
# configuration puts on the path, its framework's setup (guarded: a failure is said, not fatal)
context = json.loads(sys.argv[3])
entered = None
def enter():
    said = []
    for key, value in context["environ"]:
        os.environ.setdefault(key, value)
    sys.path[:0] = [p for p in context["path"] if p not in sys.path]
    try:
        os.chdir(context["cwd"])
    except OSError as exc:
        said.append("cannot work in %s: %s" % (context["cwd"], exc))
    for module, function in context["setup"]:
        try:
            if importlib.util.find_spec(module) is None:
                continue
            getattr(importlib.import_module(module), function)()
        except BaseException as exc:
            said.append("%s.%s() failed: %s: %s%s" % (module, function, type(exc).__name__,
                                                       exc, at(exc)))
    return "; ".join(said)
def chain(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen
for line in requests:
    name, _, in_context = line.strip().partition("\t")
    start = time.perf_counter()
    absent = False
    del unloaded[:]
    libraries, extension = [], ""
    present = set(sys.modules)
    try:
        if in_context and entered is None:
            entered = ""  # once: a setup that raises is not run again for every module
            entered = enter()
        importlib.import_module(name)
        error = ""
    except BaseException as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        error = "%s: %s%s" % (type(exc).__name__, exc, at(exc))
        # a package that words a missing module its own way still raised from the real cause
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, ImportError) and cause is not exc:
            error += " [caused by %s: %s]" % (type(cause).__name__, cause)
        # a module whose own code raises "No module named <itself>" declares an optional part
        # absent (PyYAML's _yaml stub without the C extension): not a broken install
        own = name.replace(".", "/")
        absent = (isinstance(exc, ModuleNotFoundError) and bool(tb)
                  and str(exc) == "No module named %r" % name
                  and tb[-1].filename.endswith((own + ".py", own + "/__init__.py")))
        libraries = list(unloaded)
        for link in chain(exc):
            if isinstance(link, (OSError, ImportError)):
                libraries += [a or b for a, b in LOADER.findall(str(link))]
            path = getattr(link, "path", None) if isinstance(link, ImportError) else None
            if path and not extension and ".so" in os.path.basename(path):
                extension = path  # an extension module the loader refused: its DT_NEEDED
        if in_context and entered:
            error += " [context: %s]" % entered
    # the top-level modules this import loaded (all it touched, in a fresh interpreter)
    loaded = sorted({n.partition(".")[0] for n in list(sys.modules) if n not in present})
    answers.write(json.dumps({"error": error, "absent": absent, "libraries": libraries,
                              "extension": extension, "loaded": loaded,
                              "seconds": time.perf_counter() - start}) + "\n")
    answers.flush()
"""


@dataclass(frozen=True)
class _Answer:
    status: ImportStatus
    error: str
    seconds: float
    libraries: tuple[str, ...] = ()  # what the module tried to load and could not
    loaded: tuple[str, ...] = ()  # the top-level modules the import loaded


@dataclass(frozen=True)
class ImportJob:
    module: str
    distribution: str
    in_context: bool = False  # the project's own, or one its code imports: imported as it runs


def _context_argument(context: ImportContext | None, cwd: Path) -> str:
    if context is None:
        return json.dumps({"environ": [], "path": [], "cwd": str(cwd), "setup": []})
    return json.dumps(
        {
            "environ": [list(pair) for pair in context.environ],
            "path": list(context.path),
            "cwd": str(context.cwd),
            "setup": [list(pair) for pair in context.setup],
        }
    )


class _Worker:
    def __init__(self, python: Path, extra_path: Sequence[str], cwd: Path, context: str):
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the worker)
        path = json.dumps(list(extra_path))
        self.process = subprocess.Popen(
            [str(python), "-I", "-c", _WORKER, path, str(cwd / "pycache"), context],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=cwd,
            env=child_env(python.parent.parent),
            text=True,
            start_new_session=True,
        )

    def ask(self, job: ImportJob, timeout: float) -> _Answer:
        assert self.process.stdin is not None and self.process.stdout is not None
        start = time.monotonic()
        try:
            self.process.stdin.write(job.module + ("\t1" if job.in_context else "") + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            return _Answer(ImportStatus.CRASHED, self._death(), 0.0)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return _Answer(
                ImportStatus.TIMEOUT, f"import did not finish within {timeout:.0f} s", timeout
            )
        line = self.process.stdout.readline()
        if not line:
            return _Answer(ImportStatus.CRASHED, self._death(), time.monotonic() - start)
        answer = json.loads(line)
        status = ImportStatus.FAILED if answer["error"] else ImportStatus.OK
        if answer.get("absent"):
            status = ImportStatus.ABSENT
        libraries = list(answer.get("libraries", ()))
        if answer.get("extension"):
            libraries += unresolved_needed(Path(answer["extension"]))
        return _Answer(
            status,
            answer["error"],
            float(answer["seconds"]),
            tuple(dict.fromkeys(libraries)),
            tuple(answer.get("loaded", ())),
        )

    def _death(self) -> str:
        code = self.process.wait(timeout=10)
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}"
        self.log.seek(0)
        tail = self.log.read()[-600:].decode(errors="replace").strip()
        return f"the interpreter {how} while importing" + (f": {tail}" if tail else "")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
        self.log.close()


def import_all(
    python: Path,
    jobs: Sequence[ImportJob],
    *,
    extra_path: Sequence[str] = (),
    timeout: float = 60.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    context: ImportContext | None = None,
) -> list[ModuleCheck]:
    """Import every job's module; one result per job, in the order given. A job marked
    ``in_context`` is imported in ``context`` (entered once per worker, before the first)."""
    found = import_traced(
        python,
        jobs,
        extra_path=extra_path,
        timeout=timeout,
        workers=workers,
        progress=progress,
        context=context,
    )
    return [check for check, _ in found]


def import_traced(
    python: Path,
    jobs: Sequence[ImportJob],
    *,
    extra_path: Sequence[str] = (),
    timeout: float = 60.0,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    context: ImportContext | None = None,
) -> list[tuple[ModuleCheck, tuple[str, ...]]]:
    """``import_all``, each result with the top-level modules its import loaded (complete for a
    failure, which is confirmed in a fresh interpreter; in a shared worker, what earlier imports
    loaded is not counted again)."""
    results: dict[int, tuple[ModuleCheck, tuple[str, ...]]] = {}
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(jobs)):
        todo.put(index)
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="bulletproof-imports-") as cwd:
        entering = _context_argument(context, Path(cwd))

        def record(index: int, answer: _Answer) -> None:
            job = jobs[index]
            with lock:
                results[index] = (
                    ModuleCheck(
                        job.module,
                        job.distribution,
                        answer.status,
                        answer.seconds,
                        answer.error,
                        answer.libraries,
                    ),
                    answer.loaded,
                )
                if progress:
                    progress(len(results))

        def run_queue() -> None:
            worker: _Worker | None = None
            try:
                while True:
                    try:
                        index = todo.get_nowait()
                    except queue.Empty:
                        return
                    worker = worker or _Worker(python, extra_path, Path(cwd), entering)
                    answer = worker.ask(jobs[index], timeout)
                    if answer.status not in (ImportStatus.OK, ImportStatus.ABSENT):
                        worker.stop()
                        worker = None
                    if answer.status is ImportStatus.FAILED:  # confirm alone, in a fresh one
                        alone = _Worker(python, extra_path, Path(cwd), entering)
                        answer = alone.ask(jobs[index], timeout)
                        alone.stop()
                    record(index, answer)
            finally:
                if worker is not None:
                    worker.stop()

        count = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
        threads = [threading.Thread(target=run_queue, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return [results[i] for i in range(len(jobs))]

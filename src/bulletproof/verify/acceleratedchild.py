"""The script the environment's own interpreter runs to see which side of each try/except
import of a compiled module is in use, and (when the project asks) to time both sides.

It imports the project's modules the way the import workers do (``imports.py``): the folders
given first on the path, the project's context entered (its settings variables unless the
environment sets them, its root as the working directory, its framework's setup, guarded),
bytecode never written. What imported modules print goes to stderr, the answer alone to stdout.
The job is ``argv[1]`` (JSON); the benchmark's sample text is stdin."""

from __future__ import annotations

SCRIPT = r"""
import importlib, importlib.machinery, importlib.util, json, os, sys, timeit
answers = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # what imported modules print goes to stderr, not into the answer
job = json.loads(sys.argv[1])
sample = sys.stdin.read() if job["benchmarks"] else ""
null = os.open(os.devnull, os.O_RDONLY); os.dup2(null, 0)
context = job["context"]
sys.path[:0] = [p for p in [*job["path"], *context["path"]] if p not in sys.path]
for key, value in context["environ"]:
    os.environ.setdefault(key, value)
try:
    os.chdir(context["cwd"])
except OSError:
    pass
for module, function in context["setup"]:
    try:
        if importlib.util.find_spec(module) is not None:
            getattr(importlib.import_module(module), function)()
    except BaseException:
        pass  # the verification's imports say what the setup lacks
SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
MISSING = object()

def said(exc):
    lines = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, lines[0] if lines else "")

def load(name):
    try:
        return importlib.import_module(name), ""
    except BaseException as exc:
        return None, said(exc)

def part(module, name):
    return module if not name else getattr(module, name, MISSING)

def check(pair):
    owner, error = load(pair["module"])
    if owner is None:
        return {"state": "not checked", "file": "",
                "error": "%s does not import: %s" % (pair["module"], error)}
    compiled, error = load(pair["compiled"])
    if compiled is None:
        return {"state": "fallback in use", "file": "", "error": error}
    file = getattr(compiled, "__file__", None) or ""
    if not file.endswith(SUFFIXES):
        why = "its file is not an extension module" if file else "it has no file"
        return {"state": "not compiled", "file": file, "error": why}
    for bound, name, _ in pair["bindings"]:
        value = getattr(owner, bound, MISSING)
        if value is MISSING or value is not part(compiled, name):
            return {"state": "fallback in use", "file": file,
                    "error": "%s.%s is not %s's" % (pair["module"], bound, pair["compiled"])}
    return {"state": "in use", "file": file, "error": ""}

def best(call):
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=3, number=number)) / number

def measure(pair, function, compiled_name, fallback_name):
    sides = []
    for side, module_name, name in (("compiled", pair["compiled"], compiled_name),
                                    ("fallback", pair["fallback"], fallback_name)):
        module, error = load(module_name)
        if module is None:
            return {"problem": "not measured: %s does not import: %s" % (module_name, error)}
        call = part(module, name)
        if not callable(call):
            return {"problem": "not measured: %s has no function %s" % (module_name, name)}
        try:
            result = call(sample)
        except BaseException as exc:
            return {"problem": "not measured: the %s %s raised %s" % (side, function, said(exc))}
        sides.append((call, result))
    try:
        same = bool(sides[0][1] == sides[1][1])
    except BaseException:
        same = False
    if not same:
        return {"problem": "the compiled and fallback results differ"}
    (fast, _), (slow, _) = sides
    return {"compiled": best(lambda: fast(sample)), "fallback": best(lambda: slow(sample)),
            "problem": ""}

pairs = [check(pair) for pair in job["pairs"]]
timed = [measure(job["pairs"][index], function, compiled_name, fallback_name)
         for index, function, compiled_name, fallback_name in job["benchmarks"]]
answers.write(json.dumps({"pairs": pairs, "benchmarks": timed}) + "\n")
answers.flush()
"""

"""Run a project's unittest suite and write its results as JUnit XML, the format pytest's
``--junitxml`` writes, so one reader serves both. Run by the project's interpreter, as a script
(``python unittest_junit.py OUT.xml START``): it imports only the standard library.

A module that fails to import is a failed test named after the module, as unittest reports it."""

from __future__ import annotations

import sys
import time
import traceback
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from types import TracebackType

_Error = tuple[type[BaseException], BaseException, TracebackType | None]


class _Recorder(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, str, str, str, float]] = []  # id, kind, message, text, secs
        self._started = 0.0

    def startTest(self, test: unittest.TestCase) -> None:
        self._started = time.monotonic()
        super().startTest(test)

    def _row(self, test: unittest.TestCase, kind: str, message: str = "", text: str = "") -> None:
        self.rows.append((test.id(), kind, message, text, time.monotonic() - self._started))

    def addSuccess(self, test: unittest.TestCase) -> None:
        self._row(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: _Error) -> None:  # type: ignore[override]
        self._row(test, "failure", *_described(err))

    def addError(self, test: unittest.TestCase, err: _Error) -> None:  # type: ignore[override]
        self._row(test, "error", *_described(err))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        self._row(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: _Error) -> None:  # type: ignore[override]
        self._row(test, "skipped", "expected failure")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        self._row(test, "failure", "unexpected success")


def _described(err: _Error) -> tuple[str, str]:
    kind, value, tb = err
    text = "".join(traceback.format_exception(kind, value, tb))
    return f"{kind.__name__}: {value}", text


def main(out: str, start: str) -> int:
    top = "."
    if not (Path(start) / "__init__.py").is_file():
        # a tests/ folder that is no package: its modules are top-level, the project's on the path
        top = start
        sys.path.insert(0, str(Path.cwd()))
    suite = unittest.defaultTestLoader.discover(start, top_level_dir=top)
    result = _Recorder()
    suite.run(result)
    root = ET.Element("testsuite", name="unittest", tests=str(len(result.rows)))
    for test_id, kind, message, text, seconds in result.rows:
        module, _, name = test_id.rpartition(".")
        case = ET.SubElement(root, "testcase", classname=module, name=name, time=f"{seconds:.3f}")
        if kind != "passed":
            ET.SubElement(case, kind, message=message).text = text
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "."))

"""What the core tells the person running it, as a protocol: the core never imports the terminal.

`report/terminal.py` implements it with rich; `Recorder` keeps what was said, for tests and for
code that runs with nobody watching. Both record the steps and messages the JSON report lists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# a progress bar for importing modules: called with the total, returns the callback for "done"
ImportProgress = Callable[[int], Callable[[int], None]]


class Reporter(Protocol):
    record: RunRecord  # the steps and messages, for the JSON report

    def step(self, name: str, *, spinner: bool = True) -> AbstractContextManager[list[str]]:
        """Time a step; the caller may append a detail to the yielded list. ``spinner=False``
        for a step that shows a progress bar of its own."""
        ...

    def say(self, text: str) -> None:
        """A message worth the user's attention, recorded for the report."""
        ...

    def note(self, text: str) -> None:
        """Recorded for the report only (a command that was run, already shown)."""
        ...

    def show(self, text: str) -> None:
        """Plain text shown before a question (the commands a consent covers)."""
        ...

    def ask(self, question: str) -> bool:
        """Whether the user said yes; only called when there is a terminal to ask at."""
        ...

    def import_progress(self) -> AbstractContextManager[ImportProgress]: ...


class Recorder:
    """A Reporter with nobody watching: records everything, answers every question with
    ``answer``, and keeps the questions it was asked."""

    def __init__(self, record: RunRecord, *, answer: bool = False) -> None:
        self.record = record
        self.answer = answer
        self.questions: list[str] = []
        self.shown: list[str] = []

    @contextmanager
    def step(self, name: str, *, spinner: bool = True) -> Iterator[list[str]]:
        detail: list[str] = []
        start = time.monotonic()
        yield detail
        self.record.steps.append(Step(name, time.monotonic() - start, "; ".join(detail)))

    def say(self, text: str) -> None:
        self.record.messages.append(text)

    def note(self, text: str) -> None:
        self.record.messages.append(text)

    def show(self, text: str) -> None:
        self.shown.append(text)

    def ask(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer

    @contextmanager
    def import_progress(self) -> Iterator[ImportProgress]:
        yield lambda total: lambda done: None


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class RunRecord:
    """What a command did, gathered as it goes, for the terminal and JSON reports: the reporter
    appends to its lists; nothing replaces or edits an entry."""

    command: str
    project_dir: Path
    steps: list[Step] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

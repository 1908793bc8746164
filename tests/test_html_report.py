"""The HTML report (`--html` on setup and verify, `bulletproof report DIR --html FILE`) of real
runs: validated by html5lib's strict parser (the HTML5 parsing algorithm, which raises on any
parse error), and rendered by a real browser engine, Debian's Chromium driven by Playwright,
headless: the verdict is visible, every in-page link leads to an element, no request leaves
the page. A secret the run has seen appears nowhere in it."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.report.html import render
from tests.conftest import write_project

html5lib = pytest.importorskip("html5lib")

CHROMIUM = Path("/usr/bin/chromium")
SECRET = "tok-9d2f-never-in-a-page"
TESTS = """import os
import unittest


class ZqTest(unittest.TestCase):
    def test_passes(self):
        self.assertTrue(True)

    def test_fails_in_the_code(self):
        token = os.environ["ZQ_API_TOKEN"]
        self.assertEqual(token, "something else", token)
"""


def _parse(page: str) -> Any:
    """The document, or html5lib's first parse error (strict: any error raises)."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)


def _project(root: Path, requirements: str = "good==1.0\n") -> Path:
    write_project(root, requirements)
    (root / "tests").mkdir()
    (root / "tests" / "test_zq.py").write_text(TESTS)
    (root / ".env").write_text(f"ZQ_API_TOKEN={SECRET}\n")
    return root


@pytest.fixture
def set_up(tmp_path: Path, local_index: Path) -> tuple[Path, Path, Path, int]:
    """A project set up for real with --tests (one test fails in the code, its message the
    secret), its JSON and HTML reports."""
    root = _project(tmp_path / "proj")
    report, page = tmp_path / "r.json", tmp_path / "page.html"
    code = main(
        [
            "setup",
            str(root),
            "--python",
            "3.12",
            "-q",
            "--tests",
            "--json",
            str(report),
            "--html",
            str(page),
        ]
    )
    return root, report, page, code


def test_setup_writes_a_valid_page_with_the_verdict_first_and_no_secret(
    set_up: tuple[Path, Path, Path, int],
) -> None:
    root, report_path, page_path, code = set_up
    report = json.loads(report_path.read_text())
    assert code == report["result"]["exit_code"] != 0  # the failing test fails the gate
    page = page_path.read_text()
    assert SECRET not in page and SECRET not in report_path.read_text()
    doc = _parse(page)
    assert doc.get("lang") == "en"
    main_el = doc.find("body/main")
    headings = [el.tag for el in main_el.iter() if el.tag in ("h1", "h2", "h3")]
    assert headings[:2] == ["h1", "h2"]  # the title, then the verdict's heading
    assert all(int(b[1]) - int(a[1]) <= 1 for a, b in itertools.pairwise(headings))
    verdict = main_el.find("section")
    assert verdict.get("id") == "verdict"
    said = "".join(verdict.itertext())
    assert "Failed" in said and report["result"]["message"] in said
    assert f"exit code {code}" in said
    # the failing test with its class, the stages with their seconds
    text = "".join(main_el.itertext())
    failed = next(s for s in main_el.iter("section") if s.get("id") == "failed")
    assert "The tests did not pass: 1 failed" in "".join(failed.itertext())
    row = next(
        tr for tr in main_el.iter("tr") if "test_fails_in_the_code" in "".join(tr.itertext())
    )
    assert ["".join(c.itertext()) for c in row][1:3] == ["failed", "code"]  # outcome, class
    for step in report["steps"]:
        assert step["name"] in text
    assert not doc.findall(".//script") and not doc.findall(".//link")
    ids = [el.get("id") for el in doc.iter() if el.get("id")]
    assert len(ids) == len(set(ids))  # what the parser allows and a validator does not
    labelled = [el.get("aria-labelledby") for el in doc.iter() if el.get("aria-labelledby")]
    assert labelled and set(labelled) <= set(ids)
    for table in doc.iter("table"):
        assert table.findall(".//th"), "every table has headers"
        assert all(th.get("scope") in ("col", "row") for th in table.iter("th"))
    # the state folder keeps the same report for `bulletproof report DIR`
    kept = json.loads((root / ".bulletproof" / "last-report.json").read_text())
    assert kept["result"] == report["result"]


def test_report_renders_the_last_report_and_a_diff_against_another(
    tmp_path: Path, set_up: tuple[Path, Path, Path, int]
) -> None:
    root, report_path, _page, _code = set_up
    out = tmp_path / "again.html"
    assert main(["report", str(root), "--html", str(out), "-q"]) == 0
    page = out.read_text()
    _parse(page)
    assert 'id="diff"' not in page
    # another environment: the pin moved
    other = _project(tmp_path / "other", "good==2.0\n")
    other_report = tmp_path / "other.json"
    main(["setup", str(other), "--python", "3.12", "-q", "--json", str(other_report)])
    compared = tmp_path / "compared.html"
    code = main(
        [
            "report",
            str(root),
            "--from",
            str(report_path),
            "--diff",
            str(other_report),
            "--html",
            str(compared),
        ]
    )
    assert code == 0
    doc = _parse(compared.read_text())
    diff = next(s for s in doc.iter("section") if s.get("id") == "diff")
    cells = ["".join(td.itertext()) for td in diff.iter("td")]
    assert "1.0" in cells and "2.0" in cells
    assert SECRET not in compared.read_text()


def test_report_without_a_report_says_how_to_make_one(tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    assert main(["report", str(tmp_path), "--html", str(out), "-q"]) == 2
    assert not out.exists()


def test_every_string_is_escaped_and_redacted() -> None:
    from bulletproof import redaction

    redaction.learn(SECRET)
    hostile = f"<script>alert(1)</script> & {SECRET}"
    report = {
        "schema_version": 1,
        "command": "setup",
        "project_dir": "<b>dir</b>",
        "result": {"ok": False, "exit_code": 1, "message": hostile},
        "steps": [{"name": hostile, "seconds": 1.5, "detail": "x"}],
        "mitigation": [
            {
                "package": "p",
                "stage": "build",
                "cause": hostile,
                "evidence": [hostile],
                "fix": {"kind": "system", "value": "libfoo-dev", "what": "install libfoo-dev"},
                "outcome": "did not help",
            }
        ],
        "messages": [hostile],
    }
    page = render(report)
    doc = _parse(page)
    assert not doc.findall(".//script") and not doc.findall(".//b")
    assert SECRET not in page
    assert "&lt;script&gt;" in page
    assert "did not help" in "".join(doc.find("body").itertext())


# -- a real browser engine ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):  # `make test` installs it (test-deps): missing there is a fault
            pytest.fail("no Chromium in CI: `make test-deps` installs it")
        pytest.skip("no Chromium here (Debian: apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def test_the_page_renders_in_chromium_offline_with_its_links_resolved(
    browser: Any, set_up: tuple[Path, Path, Path, int]
) -> None:
    _root, _report, page_path, _code = set_up
    url = page_path.resolve().as_uri()
    context = browser.new_context(java_script_enabled=False)  # readable without a script
    requested: list[str] = []

    def count(route: Any) -> None:
        if route.request.url != url:
            requested.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", count)
    tab = context.new_page()
    tab.goto(url)
    verdict = tab.locator("#verdict")
    assert verdict.is_visible()
    box = verdict.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    assert box["y"] < tab.locator("nav").bounding_box()["y"]  # the verdict comes first
    assert "Failed" in verdict.inner_text()
    anchors = tab.locator("a[href^='#']")
    assert anchors.count() >= 6
    for i in range(anchors.count()):
        target = anchors.nth(i).get_attribute("href")[1:]
        assert tab.locator(f"[id='{target}']").count() == 1, target
    bars = tab.locator(".bar")
    assert bars.count() >= 1 and bars.first.bounding_box() is not None
    assert requested == []
    context.close()


def test_the_kept_report_is_one_of_the_state_folders_own_files(
    set_up: tuple[Path, Path, Path, int],
) -> None:
    """A state folder without its marker is recognised by its names: the kept report is one."""
    root = set_up[0]
    (root / ".bulletproof" / "bulletproof-state").unlink()
    assert (root / ".bulletproof" / "last-report.json").is_file()
    assert main(["verify", str(root), "-q"]) == 0
    assert (root / ".bulletproof" / "bulletproof-state").is_file()


# each element with text of its own: its colour and the first opaque background behind it
_COLOURS = """() => {
  const opaque = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  return [...document.querySelectorAll('body *')]
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .map((el) => [el.tagName + '.' + el.className, getComputedStyle(el).color, opaque(el)]);
}"""


def _luminance(css: str) -> float:
    channels = [int(c) / 255 for c in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_text_meets_the_contrast_of_wcag_aa(
    browser: Any, set_up: tuple[Path, Path, Path, int]
) -> None:
    page_path = set_up[2]
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(page_path.resolve().as_uri())
    found = tab.evaluate(_COLOURS)
    assert len(found) > 20
    for what, colour, background in found:
        lighter, darker = sorted((_luminance(colour), _luminance(background)), reverse=True)
        ratio = (lighter + 0.05) / (darker + 0.05)
        assert ratio >= 4.5, (what, colour, background, ratio)
    context.close()


def test_each_fix_tried_is_on_the_page_with_its_outcome(tmp_path: Path, local_index: Path) -> None:
    """A removed standard-library API in a dependency: setup moves its pin (consented), and the
    page says what failed, the evidence, the fix and that it fixed it."""
    root = write_project(tmp_path / "proj", "oldapi==1.0\n")
    page = tmp_path / "page.html"
    assert main(["setup", str(root), "--python", "3.12", "--yes", "-q", "--html", str(page)]) == 0
    doc = _parse(page.read_text())
    fixes = next(s for s in doc.iter("section") if s.get("id") == "fixes")
    rows = [["".join(c.itertext()) for c in tr] for tr in fixes.iter("tr")][1:]
    assert len(rows) == 1
    package, why, fix, outcome = rows[0]
    assert package.startswith("oldapi")
    assert "formatargspec" in why and "oldapi" in fix and "to 1.1" in fix
    assert outcome == "✓ fixed"
    verdict = next(s for s in doc.iter("section") if s.get("id") == "verdict")
    assert "✓ Passed" in "".join(verdict.itertext())


@pytest.mark.parametrize(
    ("code", "word"),
    [
        (0, "✓ Passed"),
        (4, "! Delivered with reservations"),
        (6, "! Delivered with reservations"),
        (1, "✗ Failed"),
        (5, "✗ Failed"),
    ],
)
def test_the_verdict_is_said_in_words_by_the_exit_code(code: int, word: str) -> None:
    report = {"command": "verify", "result": {"ok": code == 0, "exit_code": code, "message": "m"}}
    verdict = next(s for s in _parse(render(report)).iter("section") if s.get("id") == "verdict")
    assert "".join(verdict.find("p").itertext()) == f"{word}: m"

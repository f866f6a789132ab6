"""Where the sandbox cannot run, `convlab grade` refuses and stores nothing; with `--no-sandbox`
it grades exactly as right, and says so at the top of everything it writes.

bubblewrap is made unavailable inside each test, so this runs on every host, with or without it.
"""
import os
import sqlite3
import sys

import coursekit as ck
import pytest

from autograder import cli
from autograder import sandbox as backends
from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

pytestmark = pytest.mark.grading

FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
ONLY_SHAPE = {"corr2d_visible": 0.0, "corr2d_hidden": 0.0, "output_shape_test": 1.0}


@pytest.fixture
def no_bwrap(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    sandbox.available.cache_clear()
    yield
    monkeypatch.undo()
    sandbox.available.cache_clear()


def stored_students(course) -> list[str]:
    try:
        with sqlite3.connect(course / "gradebook.db") as db:
            return [row[0] for row in db.execute("SELECT student FROM convlab_graded")]
    except sqlite3.OperationalError:  # convlab never stored anything here
        return []


def test_sandbox_run_refuses_and_runs_only_when_told_to(tmp_path, no_bwrap):
    assert not sandbox.available()
    assert "bubblewrap" in sandbox.why_unavailable() and "--no-sandbox" in sandbox.why_unavailable()
    with pytest.raises(backends.SandboxUnavailable, match="bubblewrap"):
        sandbox.run([sys.executable, "-c", "open('ran', 'w')"], str(tmp_path))
    assert not (tmp_path / "ran").exists(), "a refused run ran anyway"
    with pytest.raises(backends.SandboxUnavailable, match="bubblewrap"):
        backends.choose()  # the default never falls back to no sandbox
    with pytest.raises(backends.SandboxUnavailable, match="bubblewrap"):
        backends.choose("bubblewrap")
    assert backends.safest_or_none().name == "none"  # what `convlab check` takes, and says so
    result = backends.choose("none").run([sys.executable, "-c", "import os; print(os.environ['HOME'])"],
                                         str(tmp_path), limits=backends.Limits(timeout=60), env={})
    assert result.stdout.strip() == str(tmp_path) and not result.isolated and result.backend == "none"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = ck.make_course(tmp_path_factory.mktemp("unsandboxed"))
    answers = ck.solution_answers(course)
    ck.write_submission(course, "ana", answers)
    ck.write_submission(course, "ben", {**answers, "corr2d": answers["corr2d"].replace(
        "windows * K", "windows * K.flip(0, 1)")})
    return course


def test_without_a_sandbox_grade_refuses_and_stores_nothing(course, no_bwrap, capsys):
    assert cli.main(["grade", str(course)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "bubblewrap" in err and "--no-sandbox" in err
    assert stored_students(course) == []
    assert not (course / "autograded").exists() and not (course / "feedback").exists()


def test_with_no_sandbox_grades_are_right_and_said_to_be_unsandboxed(course, no_bwrap, capsys):
    assert grade(course, workers=2, timeout=60, sandbox="none") == 0
    assert ck.scores(course, "ana") == FULL
    assert ck.scores(course, "ben") == ONLY_SHAPE
    out = capsys.readouterr()
    assert "WITHOUT A SANDBOX" in out.err and "WITHOUT A SANDBOX" in out.out
    report = (course / "grading-report.md").read_text()
    assert "GRADED WITHOUT A SANDBOX" in report.split("## ")[0], "the report must say so at the top"
    assert "flipped" in (course / "autograded" / "ben" / "ps1" / "ps1.ipynb").read_text()
    assert not os.path.exists(course / "submitted" / "ana" / "ps1" / "records")


def test_doctor_says_grading_would_refuse(no_bwrap, capsys):
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "bubblewrap" in out and "refuses here without --no-sandbox" in out

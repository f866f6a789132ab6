"""Integrity signals on a class graded by `convlab grade`: copied and lightly renamed answers, a
rare wrong output two share and a pasted course kernel are signalled; independently correct and
commonly mistaken answers are not. Points never change."""
import csv

import coursekit as ck
import pytest
from integrity_answers import FLIPPED, INDEPENDENT, ORIG_A, ORIG_B, PASTED, RARE, RENAMED_B, SOLUTION_RENAMED

from autograder.grading.grade import grade
from autograder.grading.integrity import common_size
from autograder.sandbox import bubblewrap

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not bubblewrap.available(), reason=f"no sandbox here: {bubblewrap.why_unavailable()}"),
]
CLASS = {"ann": ORIG_A, "ann_copy": ORIG_A, "ben": ORIG_B, "ben_renamed": RENAMED_B, "ivy": INDEPENDENT,
         "flip1": FLIPPED[0], "flip2": FLIPPED[1], "flip3": FLIPPED[2], "rare1": RARE[0], "rare2": RARE[1],
         "paste": PASTED, "sol": SOLUTION_RENAMED}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = ck.make_course(tmp_path_factory.mktemp("integrity"))
    shape = ck.solution_answers(course)["output_shape"]
    for student, corr2d in CLASS.items():
        ck.write_submission(course, student, {"corr2d": "import torch\n\n\n" + corr2d, "output_shape": shape})
    assert grade(course, workers=2, timeout=60) == 0
    with open(course / "integrity.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {"course": course, "rows": rows, "report": (course / "grading-report.md").read_text()}


def _pairs(rows, kind):
    return {frozenset(r["students"].split()) for r in rows if r["signal"] == kind}


def test_copied_and_lightly_renamed_answers_are_signalled(graded):
    assert _pairs(graded["rows"], "same code") == {frozenset({"ann", "ann_copy"}), frozenset({"ben", "ben_renamed"})}


def test_a_rare_wrong_output_two_share_is_signalled_whatever_their_code(graded):
    assert _pairs(graded["rows"], "same wrong output") == {frozenset({"rare1", "rare2"})}
    row = next(r for r in graded["rows"] if r["signal"] == "same wrong output")
    assert row["exercise"].startswith("corr2d") and "same wrong output" in row["evidence"]


def test_the_courses_code_pasted_is_signalled_with_the_source_it_matches(graded):
    rows = {r["students"]: r["evidence"] for r in graded["rows"] if r["signal"] == "course's code"}
    assert set(rows) == {"paste", "sol"}
    assert "convlab.naive.corr2d" in rows["paste"] and "the instructor's solution ps1/ps1.corr2d" in rows["sol"]


def test_a_match_with_the_solution_is_a_signal_not_a_review_flag(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        grades = gb.find_submission("ps1", "sol").notebooks[0].grades
        assert not any(g.needs_manual_grade for g in grades)


def test_independent_and_commonly_mistaken_answers_are_no_signal(graded):
    named = {s for r in graded["rows"] for s in r["students"].split()}
    assert not named & {"ivy", "flip1", "flip2", "flip3"}
    assert common_size(len(CLASS)) == 3  # the three who flipped the kernel are many enough to be common
    assert "| same wrong output | 3 |" in graded["report"] and "## Integrity signals" in graded["report"]


def test_signals_change_no_points(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission("ps1", s).score for s in CLASS}
    assert scores["ann_copy"] == scores["ann"] == scores["ben_renamed"] == scores["ivy"] == 4
    assert scores["paste"] == 4 and scores["rare1"] == scores["flip1"] == 1


def test_an_answer_that_defeats_the_normaliser_or_is_huge_is_left_out_quickly(tmp_path):
    """No submission's text stops the class's report: deep nesting, or a function far longer than any answer."""
    import time

    import nbformat

    from autograder.coursedir import CourseDir
    from autograder.grading import integrity

    course = CourseDir(tmp_path)
    meta = {"nbgrader": {"grade_id": "corr2d", "solution": True, "grade": False, "locked": False,
                         "schema_version": 3}}
    deep = "def corr2d(X, K):\n    return " + "-" * 500 + "X * K"  # parses; normalising it exhausts the recursion
    huge = "def corr2d(X, K):\n" + "".join(f"    y{i} = X + K * {i}\n" for i in range(3000)) + "    return y0"
    for student, source in (("deep", deep), ("huge", huge)):
        path = course.autograded(student, "ps1", "ps1")
        path.parent.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata=meta)]), str(path))
    started = time.monotonic()
    assert integrity.answers(course, "huge", "ps1", ["ps1"]) == {}
    assert integrity.answers(course, "deep", "ps1", ["ps1"]) == {}
    assert time.monotonic() - started < 10

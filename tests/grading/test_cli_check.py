"""`convlab check NOTEBOOK` and the nbgrader-metadata reading it relies on (autograder.cell_meta)."""
from pathlib import Path

import nbformat
import pytest
from coursekit import FIXTURE, convlab
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import cell_meta
from autograder.authoring.build import generate

pytestmark = pytest.mark.grading


def meta(grade_id, *, solution=False, grade=False, points=None):
    nbgrader = {"grade": grade, "grade_id": grade_id, "locked": grade, "schema_version": 3,
                "solution": solution, "task": False}
    if points is not None:
        nbgrader["points"] = points
    return {"nbgrader": nbgrader}


def answer(grade_id, source):
    return new_code_cell(source, metadata=meta(grade_id, solution=True))


def grader_cell(grade_id, source, points):
    return new_code_cell(source, metadata=meta(grade_id, grade=True, points=points))


CHECK = "from convlab.checks import lesson01 as check\n"
CORR2D = ("def {name}(X, K):\n    kh, kw = K.shape\n    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)\n"
          "    return (windows * K{flip}).sum(dim=(-2, -1))")


def synthetic() -> nbformat.NotebookNode:
    """Three exercises checked by the course's checks: right, wrong and blank, plus noise and hidden tests."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Three exercises"),
        answer("right", CORR2D.format(name="corr2d", flip="")),
        grader_cell("right_visible", CHECK + "check.corr2d(corr2d)\n### BEGIN HIDDEN TESTS\n"
                    "assert False, 'a hidden test ran'\n### END HIDDEN TESTS", 2),
        grader_cell("right_stderr", CHECK + "import sys\nprint('noise', file=sys.stderr)\ncheck.corr2d(corr2d)", 1),
        grader_cell("right_hidden", CHECK + "### BEGIN HIDDEN TESTS\ncheck.corr2d(corr2d, seed=5, cases=3)\n"
                    "### END HIDDEN TESTS", 3),
        answer("flipped", CORR2D.format(name="flipped", flip=".flip(0, 1)")),
        grader_cell("flipped_visible", CHECK + "check.corr2d(flipped)", 1),
        answer("blank", "# YOUR CODE HERE\nraise NotImplementedError()"),
        grader_cell("blank_visible", CHECK + "check.corr2d(blank)", 1),
        new_code_cell("print('a plain cell')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def table(stdout: str) -> dict[str, list[str]]:
    """Rows of the printed table: exercise -> [points, hidden, feedback] (wrapped lines joined)."""
    rows: dict[str, list[str]] = {}
    last = None
    for line in stdout.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0]:
            last = cells[0]
            rows[last] = cells[1:]
        elif last is not None:
            rows[last] = [f"{old} {new}".strip() for old, new in zip(rows[last], cells[1:])]
    return rows


# ---- autograder.cell_meta: reading nbgrader metadata (no kernel) ----

def test_exercises_group_answers_with_the_tests_after_them():
    nb = synthetic()
    found = cell_meta.exercises(nb)
    assert [(e.name, e.answer, e.tests, e.points) for e in found] == [
        ("right", 1, [2, 3, 4], 6.0), ("flipped", 5, [6], 1.0), ("blank", 7, [8], 1.0),
    ]
    assert cell_meta.total_points(nb) == 8.0


def test_tests_before_any_answer_form_their_own_exercise():
    nb = new_notebook(cells=[
        grader_cell("shape_question", "assert (3, 3) == (3, 3)", 1),
        answer("f", "def f():\n    return 1"),
        answer("g", "def g():\n    return 2"),  # no tests: not an exercise
        grader_cell("f_and_g", "assert f() + g() == 3", 2),
    ])
    assert [(e.name, e.answer, e.tests) for e in cell_meta.exercises(nb)] == [
        ("shape_question", None, [0]), ("g", 2, [3]),
    ]


def test_manually_graded_cells_count_points_but_are_not_exercises():
    nb = new_notebook(cells=[
        new_markdown_cell("Explain.", metadata=meta("explain", solution=True, grade=True, points=2)),
        answer("f", "def f():\n    return 1"),
        grader_cell("f_test", "assert f() == 1", 1),
    ])
    assert cell_meta.is_manual_cell(nb.cells[0]) and not cell_meta.is_answer_cell(nb.cells[0])
    assert [e.name for e in cell_meta.exercises(nb)] == ["f"]
    assert cell_meta.total_points(nb) == 3.0


def test_strip_hidden_tests_keeps_the_visible_lines():
    nb = synthetic()
    assert cell_meta.strip_hidden_tests(nb) == 2
    assert nb.cells[2].source == CHECK + "check.corr2d(corr2d)"
    assert nb.cells[4].source == CHECK.rstrip("\n")
    assert not any(cell_meta.has_hidden_tests(cell) for cell in nb.cells)


@pytest.mark.parametrize("source", [
    "### BEGIN HIDDEN TESTS\nassert 1",
    "### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS",
])
def test_malformed_hidden_regions_are_errors(source):
    with pytest.raises(ValueError, match="BEGIN HIDDEN TESTS"):
        cell_meta.remove_region(source, cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN)


# ---- convlab check, through the command line ----

def test_check_scores_each_exercise_without_hidden_tests(tmp_path):
    path = tmp_path / "three.ipynb"
    nbformat.write(synthetic(), str(path))
    before = path.read_bytes()
    result = convlab("check", str(path))
    assert result.returncode == 0, result.stderr  # whatever the score
    rows = table(result.stdout)
    # The hidden test that would fail was removed; stderr output costs nothing.
    assert rows["right"][:2] == ["3/3", "3"] and rows["right"][2] == "passed"
    assert rows["flipped"][0] == "0/1"
    assert "lesson01.corr2d" in rows["flipped"][2] and "flipped" in rows["flipped"][2]
    assert rows["blank"][0] == "0/1" and "not answered yet" in rows["blank"][2]
    assert rows["total"][:2] == ["3/5", "3"]
    assert path.read_bytes() == before  # the notebook itself is not touched


def test_check_reports_a_cell_that_runs_too_long(tmp_path):
    nb = new_notebook(cells=[
        answer("slow", "def slow():\n    return 1"),
        grader_cell("slow_test", "import time\ntime.sleep(600)", 1),
    ])
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, str(path))
    result = convlab("check", str(path), "--timeout", "20")
    assert result.returncode == 0, result.stderr
    row = table(result.stdout)["slow"]
    assert row[0] == "0/1" and "time limit" in row[-1]
    assert "hidden tests" not in result.stdout  # a notebook without hidden tests shows no empty column


def test_check_of_a_missing_notebook_is_an_error(tmp_path):
    result = convlab("check", str(tmp_path / "nope.ipynb"))
    assert result.returncode == 2 and "NOTEBOOK" in result.stderr and "nope.ipynb" in result.stderr




@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("released")
    generate(FIXTURE, folder)
    return folder / "ps1" / "ps1.ipynb"


def test_check_gives_a_solution_notebook_its_visible_points():
    source = cell_meta.read(FIXTURE / "ps1/ps1.ipynb")
    result = convlab("check", str(FIXTURE / "ps1/ps1.ipynb"))
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    for exercise in cell_meta.exercises(source):
        assert exercise.name in rows, result.stdout
        earned, possible = rows[exercise.name][0].split("/")
        hidden = float(rows[exercise.name][1] or 0)  # points only hidden tests decide
        assert earned == possible and float(possible) + hidden > 0, rows[exercise.name]
        assert rows[exercise.name][2] == "passed"


def test_check_gives_a_blank_lesson_zero(released):
    result = convlab("check", str(released))
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    for exercise in cell_meta.exercises(cell_meta.read(released)):
        assert rows[exercise.name][0].startswith("0/"), rows[exercise.name]
        assert "not answered yet" in rows[exercise.name][2]
    assert rows["total"][0].startswith("0/")


def test_check_of_a_file_that_is_not_a_notebook_is_an_error(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [')
    result = convlab("check", str(path))
    assert result.returncode == 2
    assert "NOTEBOOK" in result.stderr and "broken.ipynb" in result.stderr
    assert "Traceback" not in result.stderr

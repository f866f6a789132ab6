"""`convlab audit`: each test cell's check calls run against mutants of the exercise's answer; a hidden
test weaker than its visible one is flagged by the audit, refused by `convlab build`, and shown in the
instructor report."""
from pathlib import Path

import nbformat
import pytest
from coursekit import convlab

from autograder.authoring.audit import audit_lessons, lesson_names
from autograder.cli import main
from autograder.coursedir import CourseDir
from autograder.grading.report import instructor_report
from autograder.mutants import audit_notebook, short
from convlab.checks.core import Case, Exercise
from convlab.checks.problems import Kind, Problem
from convlab.checks.variants import FLIPPED

pytestmark = pytest.mark.grading

REPO = Path(__file__).resolve().parents[2]
KEPT = "negatives kept — clamp every negative value to 0"


class Relu(Exercise):
    """relu(x): x where it is positive, else 0."""

    def make_case(self, draw, i):
        x = draw.randn(draw.int(2, 4), draw.int(2, 4), dtype=draw.dtype(i))
        return Case((x.abs() if i == 0 else x,))  # case 0 has nothing negative: a missing clamp goes unseen

    def reference(self, x):
        return x.clamp(min=0)

    def mistakes(self, x):
        yield KEPT, x


class NeverRight(Relu):
    """relu(x): a check that fails every answer, the right one too."""

    def judge_output(self, run, case, ref, where=None):
        return Problem(Kind.WRONG_VALUES, "wrong values")


relu, never_right = Relu(), NeverRight()
TOYS = {"lesson99.relu": relu, "lesson99.never_right": never_right}


def _cell(source: str, grade_id: str, **kind) -> nbformat.NotebookNode:
    meta = {"grade_id": grade_id, "locked": not kind.get("solution"), "schema_version": 3, "solution": False,
            "grade": False, "task": False, **kind}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def _notebook(check: str, hidden: str, module: str = "lesson99") -> nbformat.NotebookNode:
    """An answer cell and one test cell calling `check`: visible as the lesson writes it, `hidden` hidden."""
    name = check.split(".")[1]
    test = (f"from convlab.checks import {module} as check\ncheck.{name}({name})\n### BEGIN HIDDEN TESTS\n"
            f"check.{name}({name}, {hidden})\n### END HIDDEN TESTS")
    return nbformat.v4.new_notebook(cells=[
        _cell(f"def {name}(*args):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION", name, solution=True),
        _cell(test, f"test_{name}", grade=True, points=2)])


# -- the audit of one exercise --------------------------------------------------------------------------

def test_a_hidden_test_too_small_to_show_a_mistake_is_flagged():
    (audit,) = audit_notebook(_notebook("lesson99.relu", "seed=7, cases=1"), TOYS.get)
    visible, hidden = audit.tests
    assert (visible.part, visible.runs, hidden.part, hidden.runs) == (
        "visible", "seed 0, 5 cases", "hidden", "seed 7, 1 case")
    assert KEPT in audit.caught[visible] and KEPT not in audit.caught[hidden]
    assert audit.missed == [KEPT]
    assert audit.errors == []
    (line,) = audit.problems()
    assert "lesson99.relu" in line and "negatives kept" in line and "test_relu" in line


def test_a_hidden_test_that_shows_the_mistake_is_not_flagged():
    (audit,) = audit_notebook(_notebook("lesson99.relu", "seed=7, cases=5"), TOYS.get)
    assert audit.missed == [] and audit.problems() == []
    assert all(KEPT in caught for caught in audit.caught.values())


def test_generic_mutants_are_caught_and_the_right_answer_passes():
    (audit,) = audit_notebook(_notebook("lesson99.relu", "seed=7, cases=1"), TOYS.get)
    assert [short(label) for label in audit.mutants] == [
        "negatives kept", "last row dropped (off-by-one size)", "last two axes swapped", "zeros of the right shape",
        "right answer + 1e-2 (tolerance)"]
    assert all(set(audit.mutants) - {KEPT} <= caught for caught in audit.caught.values())


def test_a_check_failing_the_right_answer_is_an_error():
    (audit,) = audit_notebook(_notebook("lesson99.never_right", "seed=7, cases=2"), TOYS.get)
    assert len(audit.errors) == 2  # visible and hidden
    assert all("the right answer fails test_never_right" in line for line in audit.errors)
    assert audit.problems()[:2] == audit.errors


# -- the course's own lessons ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lessons():
    return audit_lessons(REPO / "solutions", lesson_names(REPO / "solutions", ["01", "03_channels"]))


def test_real_lessons_hidden_tests_catch_at_least_what_visible_ones_do(lessons):
    exercises = {audit.exercise: audit for lesson in lessons for audit in lesson.exercises}
    assert {"lesson01.corr2d", "lesson03.conv2d", "lesson03.count_parameters"} <= set(exercises)
    for name, audit in exercises.items():
        assert audit.errors == [], name
        assert any(test.hidden for test in audit.tests), f"{name} has no hidden test"
        assert audit.union(False) <= audit.union(True), name
    assert FLIPPED in exercises["lesson03.conv2d"].union(True)


def test_the_cli_prints_the_table_and_exits_0_for_the_course(capsys):
    assert main(["audit", "01", "--root", str(REPO)]) == 0
    out = capsys.readouterr().out
    assert "01_single_channel/01_single_channel.ipynb" in out and "test_corr2d" in out
    assert "kernel flipped" in out and "✓" in out and "0 problem(s)" in out


def test_the_cli_refuses_an_unknown_lesson(capsys):
    assert main(["audit", "13", "--root", str(REPO)]) == 2
    assert "LESSON" in capsys.readouterr().err


# -- a weak hidden test in a project: audit, build and report ----------------------------------------

@pytest.fixture
def weak(tmp_path) -> Path:
    """A project whose one lesson checks lesson03.count_parameters on one hidden case: bias=True there, so
    'bias counted although bias=False' slips through it."""
    project = tmp_path / "project"
    path = project / "solutions/03_weak/03_weak.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(_notebook("lesson03.count_parameters", "seed=3404, cases=1", "lesson03"), str(path))
    return project


def test_the_cli_exits_1_on_a_weaker_hidden_test(weak, capsys):
    assert main(["audit", "--root", str(weak)]) == 1
    out = capsys.readouterr().out
    assert "03_weak/03_weak.ipynb: lesson03.count_parameters" in out
    assert "bias counted although bias=False" in out


def test_build_refuses_a_weaker_hidden_test_naming_the_exercise(weak):
    result = convlab("build", cwd=weak)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lesson03.count_parameters" in result.stderr and "hidden tests (test_count_parameters)" in result.stderr
    assert not (weak / "lessons").exists()


def test_the_report_shows_the_table_once_per_assignment(weak):
    course = CourseDir(weak / "course")
    source = course.source("03_weak")
    source.mkdir(parents=True)
    (source / "03_weak.ipynb").write_bytes((weak / "solutions/03_weak/03_weak.ipynb").read_bytes())
    graded = [{"student": student, "assignment": "03_weak", "max_score": 2.0, "notebooks": {}}
              for student in ("ada", "alan")]
    text = Path(instructor_report(course, graded)[0]).read_text()
    section = text.split("## What the tests catch")[1].split("\n## ")[0]
    assert text.count("## What the tests catch") == 1 and section.count("### 03_weak") == 1
    assert "| exercise | mutant | test_count_parameters (2 points) |" in section
    assert "| count_parameters | bias not counted | ✓ / ✓ |" in section
    assert "|  | bias counted although bias=False | ✓ / ✗ |" in section
    assert "lesson03.count_parameters: the hidden tests (test_count_parameters) catch fewer" in section

"""Plain `nbgrader autograde` / `generate_feedback` in a course made by `convlab new-course`.

The course's nbgrader_config.py alone must make nbgrader grade fairly: a correct answer gets
full marks even when it writes to stderr, a blank one gets zero, and feedback never shows
hidden test source.
"""
import shutil

import coursekit as ck
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder import cell_meta
from autograder.config import HideHiddenTests

pytestmark = pytest.mark.grading


NOISE = "a note on stderr from the answer"


def noisy(answers: dict[str, str]) -> dict[str, str]:
    """The correct answers, with corr2d writing to stderr each time it runs.

    Checks capture Python-level warnings and `sys.stderr`, so the answer also writes to file
    descriptor 2, as compiled code does (the kernel forwards it to the cell's stderr).
    """
    body = answers["corr2d"].split("\n")
    # After the signature and docstring: the first line of the solution's body.
    at = next(i for i, line in enumerate(body) if i > 0 and '"""' not in line)
    indent = body[at][: len(body[at]) - len(body[at].lstrip())]
    body[at:at] = [
        f"{indent}import os, sys, warnings",
        f"{indent}warnings.warn({NOISE!r})",
        f"{indent}print({NOISE!r}, file=sys.stderr)",
        f"{indent}os.write(2, {(NOISE + chr(10)).encode()!r})",
    ]
    return {**answers, "corr2d": "\n".join(body)}


def full_marks() -> dict[str, float]:
    source = cell_meta.read(ck.FIXTURE / "ps1/ps1.ipynb")
    return {cell_meta.grade_id(c): cell_meta.points(c) for c in source.cells if cell_meta.is_test_cell(c)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course with three submissions (right, blank, noisy), autograded once by plain nbgrader."""
    course = ck.make_course(tmp_path_factory.mktemp("plain"))
    answers = ck.solution_answers(course)
    ck.write_submission(course, "right", answers)
    ck.write_submission(course, "blank")
    ck.write_submission(course, "noisy", noisy(answers))
    path = ck.write_submission(course, "editor", answers)
    nb = nbformat.read(str(path), as_version=4)
    edited = next(c for c in nb.cells if cell_meta.grade_id(c) == "corr2d_hidden")
    edited.source += "\nprint('edited')"
    nbformat.write(nb, str(path))
    result = ck.nbgrader(course, "autograde", ck.ASSIGNMENT)
    assert result.returncode == 0, result.stderr[-3000:]
    (course / "autograde.log").write_text(result.stderr)
    return course


def _warnings_about(graded, student):
    """The 'has changed' warnings nbgrader's autograde logged while sanitizing `student`'s cells."""
    parts = [part for part in (graded / "autograde.log").read_text().split("Sanitizing ")
             if part.startswith(str(graded / "submitted" / student))]
    assert len(parts) == 1, f"no log for {student}"
    return [line for line in parts[0].splitlines() if "has changed" in line]


@pytest.mark.parametrize("student", ["right", "blank", "noisy"])
def test_untouched_test_cells_raise_no_checksum_warning(graded, student):
    assert _warnings_about(graded, student) == []


def test_an_edited_test_cell_is_still_reported_and_restored(graded):
    assert any("corr2d_hidden" in line and "checksum" in line for line in _warnings_about(graded, "editor"))
    autograded = nbformat.read(str(graded / "autograded/editor/ps1/ps1.ipynb"), as_version=4)
    restored = next(c for c in autograded.cells if cell_meta.grade_id(c) == "corr2d_hidden")
    assert "seed=831" in restored.source and "edited" not in restored.source


def test_correct_submission_gets_full_marks(graded):
    assert ck.scores(graded, "right") == full_marks()


def test_blank_submission_gets_zero(graded):
    assert ck.scores(graded, "blank") == {name: 0.0 for name in full_marks()}


def test_stderr_output_does_not_cost_a_correct_answer(graded):
    assert ck.scores(graded, "noisy") == full_marks()


def test_without_ignore_pattern_the_same_stderr_would_zero_it(graded, tmp_path):
    """Control: the noisy answer really writes to stderr in test cells, which nbgrader zeroes."""
    course = tmp_path / "course"
    shutil.copytree(graded, course)
    result = ck.nbgrader(course, "autograde", ck.ASSIGNMENT, "--student", "noisy", "--force",
                         "--IgnorePattern.enabled=False")
    assert result.returncode == 0, result.stderr[-3000:]
    zeroed = ck.scores(course, "noisy")
    autograded = nbformat.read(str(course / "autograded/noisy/ps1/ps1.ipynb"), as_version=4)
    assert zeroed["corr2d_visible"] == 0.0, zeroed
    stderr = [o.text for c in autograded.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "stream" and o.name == "stderr"]
    assert any(NOISE in text for text in stderr)


def test_feedback_keeps_hidden_test_source_out(graded):
    result = ck.nbgrader(graded, "generate_feedback", ck.ASSIGNMENT)
    assert result.returncode == 0, result.stderr[-3000:]
    source = (graded / "source/ps1/ps1.ipynb").read_text()
    hidden = "check.corr2d(corr2d, seed=831, cases=20)"
    assert hidden.replace('"', '\\"') in source  # the secret the feedback must not show
    for student in ("right", "blank", "noisy"):
        autograded = (graded / f"autograded/{student}/ps1/ps1.ipynb").read_text()
        assert "seed=831" in autograded  # nbgrader restores hidden tests before running them
        feedback = (graded / f"feedback/{student}/ps1/ps1.html").read_text()
        assert "seed=831" not in feedback and "HIDDEN TESTS" not in feedback
        assert "corr2d_hidden" in feedback  # the verdict on the hidden cell is still there


def test_hide_hidden_tests_keeps_the_verdict_and_drops_the_source():
    cell = new_code_cell(
        "from convlab.checks import lesson01 as check\n### BEGIN HIDDEN TESTS\n"
        "check.corr2d(corr2d, seed=831, cases=20)\n### END HIDDEN TESTS",
        outputs=[new_output("error", ename="CheckFailed", evalue="corr2d: kernel flipped",
                            traceback=["----> 3 check.corr2d(corr2d, seed=831, cases=20)"])],
    )
    visible = new_code_cell("check.corr2d(corr2d)", outputs=[
        new_output("error", ename="CheckFailed", evalue="x", traceback=["----> 1 check.corr2d(corr2d)"])])
    nb = new_notebook(cells=[cell, visible])
    nb, _ = HideHiddenTests().preprocess(nb, {})
    assert nb.cells[0].source == "from convlab.checks import lesson01 as check"
    assert nb.cells[0].outputs[0].traceback == ["CheckFailed: corr2d: kernel flipped"]
    assert nb.cells[1].outputs[0].traceback == ["----> 1 check.corr2d(corr2d)"]  # nothing hidden there

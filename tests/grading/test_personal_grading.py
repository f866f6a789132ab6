"""A per-student question under `convlab grade`: lesson 02's `strided_shape` draws each student's
numbers from their id; each is judged against their own, and an answer copied from a classmate
with other numbers scores nothing, whatever the notebook sets its learner to."""
import shutil
from pathlib import Path

import coursekit as ck
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap
from convlab.checks import lesson02

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not bubblewrap.available(), reason=f"no sandbox here: {bubblewrap.why_unavailable()}"),
]
ROOT = Path(__file__).resolve().parents[2]
LESSON = "02_padding_stride"
TEST = "test_strided_shape"


def _answer(numbers) -> tuple:
    return lesson02.strided_shape.for_learner(None).expected() if numbers is None else lesson02._strided(numbers)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    where = tmp_path_factory.mktemp("personal")
    shutil.copytree(ROOT / "solutions" / LESSON, where / "source" / LESSON,
                    ignore=shutil.ignore_patterns("*.yml"))
    course = ck.make_course(where, where / "source")
    mine = lesson02.strided_shape.numbers("ana")
    others = [lesson02.strided_shape.numbers(who) for who in ("ben", "cy", "dan")]
    assert all(_answer(mine) != _answer(numbers) for numbers in others)  # ana's question is no one else's
    answers = ck.solution_answers(course, LESSON)
    copied = answers["understanding"].replace(
        'q = check.strided_shape.numbers()\n    side = (q["n"] + 2 * q["p"] - q["k"]) // q["s"] + 1\n'
        '    return (1, q["c_out"], side, side)', f"return {_answer(mine)!r}")
    claimed = copied.replace("def strided_shape():", "import os\nos.environ['CONVLAB_LEARNER'] = 'ana'\n\n\n"
                             "def strided_shape():")
    assert copied != answers["understanding"] and claimed != copied
    for student, cell in (("ana", answers["understanding"]), ("ben", answers["understanding"]),
                          ("cy", copied), ("dan", claimed)):
        ck.write_submission(course, student, {**answers, "understanding": cell}, assignment=LESSON)
    assert grade(course, workers=2, timeout=120) == 0
    return course


def test_each_student_is_judged_against_their_own_numbers(graded):
    for student in ("ana", "ben"):
        assert ck.scores(graded, student, LESSON)[TEST] == 1.0


def test_an_answer_for_another_students_numbers_scores_nothing(graded):
    assert ck.scores(graded, "cy", LESSON)[TEST] == 0.0


def test_claiming_another_learner_in_the_notebook_changes_nothing(graded):
    assert ck.scores(graded, "dan", LESSON)[TEST] == 0.0

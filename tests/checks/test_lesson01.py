"""Lesson 01's check, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson01

pytestmark = pytest.mark.grading


def test_the_first_case_is_a_non_square_kernel_on_a_non_square_input():
    X, K = lesson01.corr2d.cases(0, 1)[0].args
    assert X.shape[0] != X.shape[1] and K.shape[0] != K.shape[1]


def test_a_passing_check_says_so_in_one_line(capsys):
    from checks.answers import corr2d

    lesson01.corr2d(lambda X, K: corr2d(X, K), cases=3)
    lesson01.corr2d(lambda X, K: corr2d(X, K), cases=1)
    both = "values on the CPU; shapes and dtypes without computing (meta)"
    assert capsys.readouterr().out.splitlines() == [f"lesson01.corr2d: 3 cases passed — {both}",
                                                    f"lesson01.corr2d: 1 case passed — {both}"]


def test_a_right_answer_says_so(capsys):
    from convlab.checks import answer

    answer("output size", (3, 4), (3, 4))
    assert capsys.readouterr().out == "output size: right\n"

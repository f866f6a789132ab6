"""Lesson 01's check, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson01

pytestmark = pytest.mark.grading


def test_the_first_case_is_a_non_square_kernel_on_a_non_square_input():
    X, K = lesson01.corr2d.cases(0, 1)[0].args
    assert X.shape[0] != X.shape[1] and K.shape[0] != K.shape[1]

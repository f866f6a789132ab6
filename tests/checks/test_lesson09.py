"""Lesson 09's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson09

pytestmark = pytest.mark.grading


def test_the_lessons_worked_example_is_among_the_cases():
    assert lesson09.conv_transpose2d_as_matmul.cases(0, 1)[0].args[0].shape == (3, 3)

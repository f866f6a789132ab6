"""Lesson 07's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson07

pytestmark = pytest.mark.grading


def test_the_lessons_worked_example_is_among_the_cases():
    first = lesson07.conv_matrix.cases(0, 1)[0]
    assert first.args[1] == (5, 5) and first.args[0].shape == (3, 3)

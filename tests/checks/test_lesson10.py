"""Lesson 10's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.autograd import conv2d_backward
from convlab.checks import CheckFailed, lesson10

pytestmark = pytest.mark.grading


def test_the_lessons_worked_example_is_among_the_cases():
    first = lesson10.conv2d_backward.cases(0, 1)[0]
    assert first.args[0].shape == (2, 3, 5, 5)
    assert first.args[2].shape == (2, 4, 3, 3)


def test_the_class_check_refuses_a_function():
    with pytest.raises(CheckFailed, match="Conv2dFunction itself"):
        lesson10.conv2d_function(conv2d_backward)

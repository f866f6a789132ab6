"""Lesson 08's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson08

pytestmark = pytest.mark.grading


def test_the_lessons_worked_example_is_among_the_cases():
    first = lesson08.conv2d.cases(0, 1)[0]
    assert first.args[0].shape[1] == 4 and first.kwargs["groups"] == 2

"""Lesson 05's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson05
from convlab.checks.lesson05 import measured_receptive_field
from convlab.shapes import receptive_field as formula

pytestmark = pytest.mark.grading


def test_the_receptive_field_oracle_agrees_with_the_formula():
    for case in lesson05.receptive_field.cases(3, 60):
        assert measured_receptive_field(*case.args, **case.kwargs) == formula(*case.args, **case.kwargs), case


def test_the_lessons_worked_example_is_the_first_case():
    case = lesson05.conv2d.cases(0, 1)[0]
    assert case.args[0].shape == (1, 1, 7, 7) and case.kwargs["dilation"] == 2
    assert lesson05.conv2d.expected(case).shape == (1, 1, 3, 3)

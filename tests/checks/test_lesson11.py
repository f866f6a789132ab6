"""Lesson 11's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import CheckFailed, lesson11
from convlab.models import LeNet

pytestmark = pytest.mark.grading


def test_the_lessons_worked_example_is_among_the_cases():
    layers, shape = lesson11.shape_trace.cases(0, 1)[0].args
    assert lesson11.traced_shapes(layers, shape)[5] == (16, 6, 6)


def test_the_model_check_refuses_an_instance():
    with pytest.raises(CheckFailed, match="LeNet itself"):
        lesson11.model(LeNet())

"""Lesson 03's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest

from convlab.checks import lesson03

pytestmark = pytest.mark.grading


def test_the_first_conv2d_case_is_a_strided_padded_batch_of_rgb_like_images():
    case = lesson03.conv2d.cases(0, 1)[0]
    assert case.args[0].shape[:2] == (2, 3) and case.args[1].shape[1] == 3
    assert (case.kwargs["stride"], case.kwargs["padding"]) == (2, 1)

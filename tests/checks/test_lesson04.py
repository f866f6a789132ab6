"""Lesson 04's check, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest
import torch

from convlab.checks import CheckFailed, lesson04

pytestmark = pytest.mark.grading


def test_conv1x1_may_not_call_torch_conv():
    def cheat(input, weight, bias=None):
        return torch.nn.functional.conv2d(input, weight, bias)

    with pytest.raises(CheckFailed, match=r"torch's own convolution .*aten\.convolution"):
        lesson04.conv1x1_as_matmul(cheat)


def test_every_weight_is_one_by_one():
    assert {case.args[1].shape[2:] for case in lesson04.conv1x1_as_matmul.cases(0, 20)} == {(1, 1)}

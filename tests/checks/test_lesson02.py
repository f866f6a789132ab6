"""Lesson 02's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest
import torch

from checks.answers import _pair, conv2d
from convlab.checks import CheckFailed, lesson02, lesson03

pytestmark = pytest.mark.grading


def test_pad_may_not_call_torch_pad_but_conv_may():
    with pytest.raises(CheckFailed, match=r"F\.pad"):
        lesson02.pad(lambda input, p, mode="constant", value=None:
                     torch.nn.functional.pad(input, p, mode=mode, value=value))

    def padded_conv(input, weight, bias=None, stride=1, padding=0):
        ph, pw = _pair(padding)
        return conv2d(torch.nn.functional.pad(input, (pw, pw, ph, ph)), weight, bias, stride)

    lesson03.conv2d(padded_conv)

"""Lesson 02's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest
import torch

from checks.answers import _pair, conv2d, pad
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


def test_pad_is_graded_in_two_steps_constant_first():
    first, second = lesson02.pad_constant.cases(0, 20), lesson02.pad.cases(0, 20)
    assert {case.kwargs.get("mode", "constant") for case in first} == {"constant"}
    assert {case.kwargs["mode"] for case in second} == {"reflect", "replicate", "circular"}
    assert any("value" in case.kwargs for case in first)
    for cases in (first, second):  # a 2-tuple pads the last dimension only
        assert {len(case.args[1]) for case in cases} == {2, 4}
        assert any(len(case.args[1]) == 2 for case in cases[:lesson02.pad.default_cases])  # a visible one too


def test_a_pad_without_the_other_modes_earns_the_first_step_only():
    def constant_only(input, p, mode="constant", value=None):
        if mode != "constant":
            raise NotImplementedError()
        return pad(input, p, mode, value)

    lesson02.pad_constant(constant_only, seed=5, cases=20)
    with pytest.raises(CheckFailed, match="not answered yet"):
        lesson02.pad(constant_only)

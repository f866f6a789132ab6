"""Lesson 06's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest
import torch

from checks.answers import _max_pool_zero_padded
from convlab.checks import CheckFailed, lesson06

pytestmark = pytest.mark.grading


def test_max_pool_padding_with_zeros_is_named():
    with pytest.raises(CheckFailed, match="padded with zeros"):
        lesson06.max_pool2d(_max_pool_zero_padded, cases=20)


def test_pooling_may_not_call_torch_pooling():
    with pytest.raises(CheckFailed, match=r"uses torch's own max_pool2d \(aten\.max_pool2d_with_indices\)"):
        lesson06.max_pool2d(lambda input, *a, **k: torch.nn.functional.max_pool2d(input, *a, **k))
    with pytest.raises(CheckFailed, match=r"uses torch's own avg_pool2d \(aten\.avg_pool2d\)"):
        lesson06.avg_pool2d(lambda input, *a, **k: torch.nn.functional.avg_pool2d(input, *a, **k))

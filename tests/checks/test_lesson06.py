"""Lesson 06's checks, beyond what every exercise is tested for (tests/checks/test_exercises.py)."""
import pytest
import torch

from checks.answers import _max_pool_zero_padded, max_pool2d
from convlab.checks import CheckFailed, lesson06

pytestmark = pytest.mark.grading


def test_max_pool_padding_with_zeros_is_named():
    with pytest.raises(CheckFailed, match="padded with zeros"):
        lesson06.max_pool2d_edges(_max_pool_zero_padded, cases=20)


def test_pooling_may_not_call_torch_pooling():
    with pytest.raises(CheckFailed, match=r"uses torch's own max_pool2d \(aten\.max_pool2d_with_indices\)"):
        lesson06.max_pool2d(lambda input, *a, **k: torch.nn.functional.max_pool2d(input, *a, **k))
    with pytest.raises(CheckFailed, match=r"uses torch's own avg_pool2d \(aten\.avg_pool2d\)"):
        lesson06.avg_pool2d(lambda input, *a, **k: torch.nn.functional.avg_pool2d(input, *a, **k))


def test_max_pool2d_is_graded_in_three_steps():
    windows, edges, indices = (check.cases(0, 20) for check in (lesson06.max_pool2d_windows,
                                                                lesson06.max_pool2d_edges, lesson06.max_pool2d))
    assert not any({"padding", "ceil_mode", "return_indices"} & set(case.kwargs) for case in windows)
    assert any("dilation" in case.kwargs for case in windows)
    assert all(case.kwargs.get("ceil_mode") or case.kwargs.get("padding", 0) not in (0, (0, 0)) for case in edges)
    assert not any("return_indices" in case.kwargs for case in edges)
    assert all(case.kwargs.get("return_indices") for case in indices)


def test_a_max_pool2d_without_edges_or_indices_earns_the_first_step_only():
    def windows_only(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if padding or ceil_mode or return_indices:
            raise NotImplementedError()
        return max_pool2d(input, kernel_size, stride, 0, dilation)

    lesson06.max_pool2d_windows(windows_only, seed=5, cases=20)
    for later in (lesson06.max_pool2d_edges, lesson06.max_pool2d):
        with pytest.raises(CheckFailed, match="not answered yet"):
            later(windows_only)

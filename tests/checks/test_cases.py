"""The shared conv2d case generator: every case it draws is one torch accepts, with only what was asked."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from strategies import conv_case_requests

from convlab.checks import Draw

pytestmark = pytest.mark.grading


@given(conv_case_requests())
def test_a_conv_case_is_one_torch_accepts_with_only_the_parameters_asked_for(request):
    seed, i, parameters = request
    case = Draw(seed).conv_case(i, parameters)
    x, weight = case.args
    assert set(case.kwargs) <= set(parameters), case.description
    assert x.dtype == weight.dtype == Draw(seed).dtype(i) and x.shape[1] == weight.shape[1] * case.kwargs.get("groups", 1)
    assert F.conv2d(x, weight, **case.kwargs).numel() > 0, case.description
    for turn, name in enumerate(("stride", "padding", "dilation"), start=1):
        assert name in case.kwargs or name not in parameters or i % 4 != turn, f"case {i} leaves out {name}"


@given(conv_case_requests())
def test_a_seed_draws_the_same_conv_case_every_time(request):
    seed, i, parameters = request
    first, again = Draw(seed).conv_case(i, parameters), Draw(seed).conv_case(i, parameters)
    assert {k: v for k, v in first.kwargs.items() if k != "bias"} == {k: v for k, v in again.kwargs.items() if k != "bias"}
    assert all(torch.equal(a, b) for a, b in zip(first.args, again.args))


def test_a_worked_example_fixes_the_sizes_and_parameters_it_names():
    case = Draw(0).conv_case(0, ("bias", "stride"), batch=2, in_channels=4, out_channels=6, size=(5, 7),
                             kernel_size=(3, 2), stride=2, groups=2)
    assert case.args[0].shape == (2, 4, 5, 7) and case.args[1].shape == (6, 2, 3, 2)
    assert case.kwargs["stride"] == 2 and case.kwargs["groups"] == 2

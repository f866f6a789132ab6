"""convlab.autograd: conv2d_backward and Conv2dFunction against torch.autograd in float64."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convlab.autograd import Conv2dFunction, conv2d_backward
from convlab.checks.guard import KERNEL_OPS, forbid_builtin_kernels

pytestmark = pytest.mark.kernels


@st.composite
def conv_cases(draw):
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 8))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 8))
    return (n, c_in, h, w), (c_out, c_in, kh, kw), stride, padding, dilation, draw(st.integers(0, 2**31 - 1))


@given(conv_cases())
def test_gradients_match_autograd(case):
    x_shape, w_shape, stride, padding, dilation, seed = case
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(x_shape, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(w_shape, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(w_shape[0], generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w, b, stride, padding, dilation)
    grad_output = torch.randn(y.shape, generator=g, dtype=torch.float64)
    y.backward(grad_output)
    with forbid_builtin_kernels(KERNEL_OPS) as seen:
        ours = conv2d_backward(x.detach(), w.detach(), grad_output, stride, padding, dilation)
    assert not seen.ops, f"torch kernels used: {seen.ops}"
    for name, mine, theirs in zip(("input", "weight", "bias"), ours, (x.grad, w.grad, b.grad)):
        assert mine.shape == theirs.shape, f"grad_{name}: {tuple(mine.shape)} != {tuple(theirs.shape)}"
        torch.testing.assert_close(mine, theirs, msg=lambda m, n=name: f"grad_{n}: {m}")


def test_lesson10_worked_example_2x3x5x5_to_2x4x3x3():
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.conv2d(x, w)
    assert y.shape == (2, 4, 3, 3)
    y.backward(torch.ones_like(y))
    gi, gw, gb = conv2d_backward(x.detach(), w.detach(), torch.ones_like(y))
    torch.testing.assert_close(gi, x.grad)
    torch.testing.assert_close(gw, w.grad)
    torch.testing.assert_close(gb, torch.full((4,), 18.0, dtype=torch.float64))


@pytest.mark.parametrize("stride, padding, with_bias", [(1, 0, True), (2, 1, True), ((2, 1), (0, 2), False)])
def test_function_passes_gradcheck(stride, padding, with_bias):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 2, 6, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True) if with_bias else None
    assert torch.autograd.gradcheck(Conv2dFunction.apply, (x, w, b, stride, padding))


def test_function_backward_uses_no_torch_convolution():
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, requires_grad=True)
    with forbid_builtin_kernels(KERNEL_OPS) as seen:
        Conv2dFunction.apply(x, w, None, 1, 1).sum().backward()
    assert not seen.ops, f"torch kernels used: {seen.ops}"
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_meta_device_shapes():
    x = torch.empty(2, 3, 7, 6, device="meta")
    w = torch.empty(4, 3, 3, 3, device="meta")
    go = torch.empty(2, 4, 3, 2, device="meta")
    gi, gw, gb = conv2d_backward(x, w, go, stride=2)
    assert (gi.shape, gw.shape, gb.shape) == (x.shape, w.shape, (4,))
    assert gi.device.type == gw.device.type == "meta"


def test_groups_mismatch_is_named():
    with pytest.raises(ValueError, match="groups"):
        conv2d_backward(torch.randn(1, 4, 5, 5), torch.randn(2, 2, 3, 3), torch.randn(1, 2, 3, 3))

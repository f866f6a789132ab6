"""convlab.functional.conv_transpose1d/2d/3d against torch.nn.functional: values, gradients, devices."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import convlab.functional as CF
from convlab import shapes
from tests.strategies import DTYPE_TOLERANCES, conv_transpose_cases, random_tensor

pytestmark = pytest.mark.kernels

OPS = {1: (CF.conv_transpose1d, F.conv_transpose1d), 2: (CF.conv_transpose2d, F.conv_transpose2d),
       3: (CF.conv_transpose3d, F.conv_transpose3d)}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _assert_same(ours, theirs, dtype, what=""):
    assert type(ours) is torch.Tensor, f"{what}: expected a plain torch.Tensor, got {type(ours).__name__}"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.device == theirs.device, f"{what}: device {ours.device} != torch's {theirs.device}"
    torch.testing.assert_close(ours, theirs, **DTYPE_TOLERANCES[dtype], msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_conv_transpose_matches_torch(dims, dtype, data):
    case = data.draw(conv_transpose_cases(dims, max_size=7 if dims < 3 else 4))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(dtype)
    ours = ours_fn(x, w, b, **case.kwargs)
    reference = torch_fn(x.double(), w.double(), None if b is None else b.double(), **case.kwargs).to(dtype)
    _assert_same(ours, reference, dtype, f"conv_transpose{dims}d {case}")


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose_gradients_match_torch(dims, data):
    case = data.draw(conv_transpose_cases(dims, max_size=5 if dims < 3 else 3, batch=st.sampled_from([None, 1, 2])))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float64, requires_grad=True)
    inputs = [x, w] if b is None else [x, w, b]
    ours = ours_fn(x, w, b, **case.kwargs)
    theirs = torch_fn(x, w, b, **case.kwargs)
    grad_output = random_tensor(theirs.shape, case.seed + 3)
    ours_grads = torch.autograd.grad(ours, inputs, grad_output)
    torch_grads = torch.autograd.grad(theirs, inputs, grad_output)
    for name, g_ours, g_torch in zip(["input", "weight", "bias"], ours_grads, torch_grads):
        _assert_same(g_ours, g_torch, torch.float64, f"conv_transpose{dims}d gradient of {name}, {case}")


@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose_on_meta_device_matches_torch_shapes(dims, data):
    case = data.draw(conv_transpose_cases(dims, max_size=10))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float32, device="meta")
    ours, theirs = ours_fn(x, w, b, **case.kwargs), torch_fn(x, w, b, **case.kwargs)
    assert (ours.shape, ours.dtype, ours.device) == (theirs.shape, theirs.dtype, theirs.device), str(case)


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """The defining property: <conv(x), y> == <x, conv_transpose(y)> for the same weight."""
    x, w = random_tensor((2, 3, 9, 8), 0), random_tensor((4, 3, 3, 2), 1)
    stride, padding, dilation = (2, 2), (1, 1), (1, 2)
    out = CF.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    y = random_tensor(out.shape, 2)
    # output_padding recovers the input size that the strided convolution rounded away
    output_padding = tuple(size - shapes.conv_transpose_output_size(o, k, s, p, 0, d)
                           for size, o, k, s, p, d in zip(x.shape[2:], out.shape[2:], w.shape[2:], stride,
                                                          padding, dilation))
    back = CF.conv_transpose2d(y, w, stride=stride, padding=padding, output_padding=output_padding,
                               dilation=dilation)
    torch.testing.assert_close((out * y).sum(), (x * back).sum(), atol=1e-10, rtol=1e-10)


def test_doubling_upsampler_multiplies_size_by_stride():
    """Kernel 2s, stride s, padding s/2 (lesson 09): output size is exactly s times the input size."""
    x, w = random_tensor((1, 2, 5, 7), 0), random_tensor((2, 3, 4, 4), 1)
    ours = CF.conv_transpose2d(x, w, stride=2, padding=1)
    assert ours.shape == (1, 3, 10, 14)
    _assert_same(ours, F.conv_transpose2d(x, w, stride=2, padding=1), torch.float64, "upsampler")


def test_positional_order_matches_torch():
    x, w, b = random_tensor((2, 4, 5, 6), 0), random_tensor((4, 3, 3, 2), 1), random_tensor((6,), 2)
    args = (b, 2, 1, 1, 2, 2)  # bias, stride, padding, output_padding, groups, dilation
    _assert_same(CF.conv_transpose2d(x, w, *args), F.conv_transpose2d(x, w, *args), torch.float64, "positional")


@needs_cuda
@pytest.mark.cuda
@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_transpose_on_cuda_matches_torch(dims, data):
    case = data.draw(conv_transpose_cases(dims, max_size=6 if dims < 3 else 4))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float64, device="cuda")
    _assert_same(ours_fn(x, w, b, **case.kwargs), torch_fn(x, w, b, **case.kwargs), torch.float64,
                 f"conv_transpose{dims}d on cuda {case}")

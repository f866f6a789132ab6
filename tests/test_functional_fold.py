"""convlab.functional.unfold (im2col) and fold (col2im) against torch.nn.functional."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import convlab.functional as CF
from convlab import shapes
from tests.strategies import DTYPE_TOLERANCES, random_tensor, unfold_cases

pytestmark = pytest.mark.kernels

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _assert_same(ours, theirs, dtype, what=""):
    assert type(ours) is torch.Tensor, f"{what}: expected a plain torch.Tensor, got {type(ours).__name__}"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert (ours.dtype, ours.device) == (theirs.dtype, theirs.device), what
    torch.testing.assert_close(ours, theirs, **DTYPE_TOLERANCES[dtype], msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(case=unfold_cases())
def test_unfold_matches_torch(dtype, case):
    shape, kwargs, seed = case
    x = random_tensor(shape, seed, dtype)
    _assert_same(CF.unfold(x, **kwargs), F.unfold(x, **kwargs), dtype, f"unfold {shape} {kwargs}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(case=unfold_cases())
def test_fold_matches_torch(dtype, case):
    shape, kwargs, seed = case
    columns = F.unfold(random_tensor(shape, seed, torch.float64), **kwargs)
    columns = random_tensor(columns.shape, seed + 1, dtype)  # fold any columns, not only unfolded ones
    output_size = shape[-2:]
    _assert_same(CF.fold(columns, output_size, **kwargs), F.fold(columns, output_size, **kwargs), dtype,
                 f"fold {tuple(columns.shape)} output_size={output_size} {kwargs}")


@given(case=unfold_cases(batch=st.sampled_from([None, 1, 2])))
def test_unfold_and_fold_gradients_match_torch(case):
    shape, kwargs, seed = case
    x = random_tensor(shape, seed, requires_grad=True)
    ours, theirs = CF.unfold(x, **kwargs), F.unfold(x, **kwargs)
    grad = random_tensor(theirs.shape, seed + 1)
    _assert_same(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(theirs, x, grad)[0], torch.float64,
                 f"unfold gradient {shape} {kwargs}")
    columns = random_tensor(theirs.shape, seed + 2, requires_grad=True)
    ours, theirs = CF.fold(columns, shape[-2:], **kwargs), F.fold(columns, shape[-2:], **kwargs)
    grad = random_tensor(theirs.shape, seed + 3)
    _assert_same(torch.autograd.grad(ours, columns, grad)[0], torch.autograd.grad(theirs, columns, grad)[0],
                 torch.float64, f"fold gradient {shape} {kwargs}")


@given(case=unfold_cases())
def test_unfold_and_fold_on_meta_device_match_torch_shapes(case):
    shape, kwargs, _ = case
    x = torch.empty(shape, device="meta")
    ours, theirs = CF.unfold(x, **kwargs), F.unfold(x, **kwargs)
    assert (ours.shape, ours.device, ours.dtype) == (theirs.shape, theirs.device, theirs.dtype)
    ours, theirs = CF.fold(theirs, shape[-2:], **kwargs), F.fold(theirs, shape[-2:], **kwargs)
    assert (ours.shape, ours.device, ours.dtype) == (theirs.shape, theirs.device, theirs.dtype)


def test_unfold_worked_example_from_lesson_07():
    """5x5 input, 3x3 kernel: 9 windows of 9 values, a (9, 9) matrix."""
    x = random_tensor((1, 1, 5, 5), 0)
    columns = CF.unfold(x, 3)
    assert columns.shape == (1, 9, 9)
    _assert_same(columns, F.unfold(x, 3), torch.float64, "lesson 07")


def test_conv2d_is_unfold_then_matmul():
    x, w = random_tensor((2, 3, 7, 6), 0), random_tensor((4, 3, 3, 2), 1)
    out_size = shapes.conv_output_shape(x.shape[2:], w.shape[2:], padding=1)
    via_columns = (w.view(4, -1) @ CF.unfold(x, (3, 2), padding=1)).view(2, 4, *out_size)
    _assert_same(via_columns, F.conv2d(x, w, padding=1), torch.float64, "conv2d via unfold")


@needs_cuda
@pytest.mark.cuda
@given(case=unfold_cases())
def test_unfold_and_fold_on_cuda_match_torch(case):
    shape, kwargs, seed = case
    x = random_tensor(shape, seed, device="cuda")
    columns = F.unfold(x, **kwargs)
    _assert_same(CF.unfold(x, **kwargs), columns, torch.float64, "unfold on cuda")
    _assert_same(CF.fold(columns, shape[-2:], **kwargs), F.fold(columns, shape[-2:], **kwargs), torch.float64,
                 "fold on cuda")

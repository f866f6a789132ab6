"""convlab.functional.conv1d/2d/3d and corr2d against torch.nn.functional: values, gradients, devices."""
import contextlib
import math
from unittest.mock import patch

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import convlab.functional as CF
from convlab.functional import fast
from tests.strategies import DTYPE_TOLERANCES, conv_cases, random_tensor

pytestmark = pytest.mark.kernels

OPS = {1: (CF.conv1d, F.conv1d), 2: (CF.conv2d, F.conv2d), 3: (CF.conv3d, F.conv3d)}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


paths = pytest.mark.parametrize("path", ["auto", "channels-first", "channels-last", "folded"])


def forced(path: str):
    """The default algorithm choice, or one layout of the shifted matmul forced wherever stride is 1
    (channels-first: any groups, one sample per block; channels-last and ``folded``: groups 1, in small
    odd blocks, ``folded`` with the last kernel dimension copied into the channels), whatever the size,
    channel count and dimensions."""
    if path == "auto":
        return contextlib.nullcontext()
    if path == "channels-first":
        return patch.multiple(fast, _SHIFT_MIN_COLUMNS=0, _SHIFT_MIN_DEPTH=1, _CHANNELS_FIRST_BLOCK=1,
                              convolution=_channels_first)
    folding = (lambda channels, kernel_size: 0) if path == "channels-last" else \
        (lambda channels, kernel_size: min(1, len(kernel_size) - 1))
    return patch.multiple(fast, _SHIFT_MIN_COLUMNS=0, _SHIFT_MIN_DEPTH=1 << 30, _MATMUL_CHUNK=37,
                          _dims_to_fold=folding)


def _channels_first(input, weight, groups, stride, padding, dilation, out_size):
    """The channels-first shifted matmul wherever it applies (any dimension), else the default choice."""
    if all(s == 1 for s in stride) and input.shape[0] > 0:
        return fast._channels_first_matmul(input, weight, groups, padding, dilation, out_size)
    return _default_choice(input, weight, groups, stride, padding, dilation, out_size)


_default_choice = fast.convolution


def _assert_same(ours, theirs, dtype, what=""):
    assert type(ours) is torch.Tensor, f"{what}: expected a plain torch.Tensor, got {type(ours).__name__}"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.device == theirs.device, f"{what}: device {ours.device} != torch's {theirs.device}"
    torch.testing.assert_close(ours, theirs, **DTYPE_TOLERANCES[dtype], msg=lambda m: f"{what}: {m}")


@paths
@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_conv_matches_torch(path, dims, dtype, data):
    case = data.draw(conv_cases(dims, max_size=9 if dims < 3 else 5))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(dtype)
    with forced(path):
        ours = ours_fn(x, w, b, **case.kwargs)
    reference = torch_fn(x.double(), w.double(), None if b is None else b.double(), **case.kwargs).to(dtype)
    _assert_same(ours, reference, dtype, f"conv{dims}d {case}")


@paths
@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_gradients_match_torch(path, dims, data):
    case = data.draw(conv_cases(dims, max_size=6 if dims < 3 else 4, batch=st.sampled_from([None, 1, 2])))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float64, requires_grad=True)
    inputs = [x, w] if b is None else [x, w, b]
    with forced(path):
        ours = ours_fn(x, w, b, **case.kwargs)
        ours_grads = torch.autograd.grad(ours, inputs, random_tensor(ours.shape, case.seed + 3))
    theirs = torch_fn(x, w, b, **case.kwargs)
    torch_grads = torch.autograd.grad(theirs, inputs, random_tensor(theirs.shape, case.seed + 3))
    for name, g_ours, g_torch in zip(["input", "weight", "bias"], ours_grads, torch_grads):
        _assert_same(g_ours, g_torch, torch.float64, f"conv{dims}d gradient of {name}, {case}")


@paths
@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_on_meta_device_matches_torch_shapes(path, dims, data):
    case = data.draw(conv_cases(dims, max_size=12))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float32, device="meta")
    with forced(path):
        ours = ours_fn(x, w, b, **case.kwargs)
    theirs = torch_fn(x, w, b, **case.kwargs)
    assert (ours.shape, ours.dtype, ours.device) == (theirs.shape, theirs.dtype, theirs.device), str(case)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_conv2d_keeps_dtype_and_contiguity(dtype):
    x, w = random_tensor((2, 4, 7, 6), 0, dtype), random_tensor((6, 2, 3, 2), 1, dtype)
    out = CF.conv2d(x, w, padding=1, groups=2)
    assert out.dtype == dtype and out.is_contiguous()
    reference = F.conv2d(x.double(), w.double(), padding=1, groups=2)
    torch.testing.assert_close(out.double(), reference, atol=0.1 if dtype == torch.bfloat16 else 1e-4, rtol=0.05)


@paths
@pytest.mark.parametrize("groups,in_channels,out_channels", [(1, 32, 40), (2, 32, 64), (32, 32, 64), (32, 32, 32)])
@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (1, "same", 2), (2, 2, 1), ((1, 2), (0, 3), (3, 1))])
def test_conv2d_every_algorithm_on_larger_inputs(path, groups, in_channels, out_channels, stride, padding, dilation):
    x = random_tensor((3, in_channels, 23, 19), 5)
    w = random_tensor((out_channels, in_channels // groups, 3, 4), 6)
    b = random_tensor((out_channels,), 7)
    with forced(path):
        ours = CF.conv2d(x, w, b, stride, padding, dilation, groups)
    theirs = F.conv2d(x, w, b, stride, padding, dilation, groups)
    _assert_same(ours, theirs, torch.float64, f"conv2d groups={groups} stride={stride} padding={padding}")
    assert ours.is_contiguous(), f"conv2d groups={groups} stride={stride}: output is not contiguous as torch's is"


@pytest.mark.parametrize("dims,groups", [(1, 1), (1, 4), (2, 2), (3, 4)])
def test_channels_first_blocks_of_samples_with_a_shorter_last_block(dims, groups):
    """Five samples in blocks of two: the weights repeated per block must match every block, the last too."""
    size = {1: (40,), 2: (11, 9), 3: (5, 6, 4)}[dims]
    x = random_tensor((5, 8, *size), 11)
    w = random_tensor((12, 8 // groups, *([3] * dims)), 12)
    ours_fn, torch_fn = OPS[dims]
    theirs = torch_fn(x, w, padding=1, groups=groups)
    span = theirs.shape[2] * math.prod(s + 2 for s in size[1:]) if dims > 1 else theirs.shape[2]
    batches, multiply = [], torch.Tensor.baddbmm_

    def counted(self, *args, **kwargs):
        batches.append(self.shape[0])
        return multiply(self, *args, **kwargs)

    with forced("channels-first"), patch.object(fast, "_CHANNELS_FIRST_BLOCK", 2 * 12 * span), \
            patch.object(torch.Tensor, "baddbmm_", counted):
        ours = ours_fn(x, w, padding=1, groups=groups)
    _assert_same(ours, theirs, torch.float64, f"conv{dims}d groups={groups} in blocks of 2 samples")
    taps = 3 ** dims
    assert batches == [2 * groups] * (2 * taps) + [groups] * taps, batches  # two blocks of 2 samples, then 1


def test_positional_order_matches_torch():
    x, w, b = random_tensor((2, 4, 9, 8), 0), random_tensor((6, 2, 3, 3), 1), random_tensor((6,), 2)
    _assert_same(CF.conv2d(x, w, b, 2, 1, 2, 2), F.conv2d(x, w, b, 2, 1, 2, 2), torch.float64, "positional")


def test_corr2d_worked_example_from_lesson_01():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    expected = F.conv2d(X[None, None].double(), K[None, None].double())[0, 0].float()
    torch.testing.assert_close(CF.corr2d(X, K), expected, atol=0, rtol=0)


@given(h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 5), kw=st.integers(1, 5),
       seed=st.integers(0, 2**30))
def test_corr2d_matches_torch(h, w, kh, kw, seed):
    kh, kw = min(kh, h), min(kw, w)
    X, K = random_tensor((h, w), seed), random_tensor((kh, kw), seed + 1)
    _assert_same(CF.corr2d(X, K), F.conv2d(X[None, None], K[None, None])[0, 0], torch.float64, "corr2d")


def test_corr2d_rejects_non_2d_input():
    with pytest.raises(RuntimeError, match="X"):
        CF.corr2d(torch.zeros(1, 3, 3), torch.zeros(2, 2))


@needs_cuda
@pytest.mark.cuda
@pytest.mark.parametrize("dims", [1, 2, 3])
@given(data=st.data())
def test_conv_on_cuda_matches_torch(dims, data):
    case = data.draw(conv_cases(dims, max_size=8 if dims < 3 else 5))
    ours_fn, torch_fn = OPS[dims]
    x, w, b = case.tensors(torch.float64, device="cuda")
    _assert_same(ours_fn(x, w, b, **case.kwargs), torch_fn(x, w, b, **case.kwargs), torch.float64,
                 f"conv{dims}d on cuda {case}")


LAYOUTS = {
    "channels_last": lambda t: t.to(memory_format=torch.channels_last) if t.dim() == 4 else t,
    "transposed_view": lambda t: t.transpose(-1, -2).contiguous().transpose(-1, -2),
    "sliced_view": lambda t: torch.cat([t, t], dim=-1)[..., : t.shape[-1]],
}


@paths
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("groups,stride", [(1, 1), (2, 2), (8, 1)])
def test_conv2d_accepts_non_contiguous_tensors(path, layout, groups, stride):
    """Same values whatever the memory layout of input and weight (views, channels_last)."""
    x, w = random_tensor((2, 8, 11, 9), 0), random_tensor((8, 8 // groups, 3, 2), 1)
    x_view, w_view = LAYOUTS[layout](x), LAYOUTS[layout](w)
    with forced(path):
        ours = CF.conv2d(x_view, w_view, None, stride, 1, 1, groups)
        ours_t = CF.conv_transpose2d(x_view, LAYOUTS[layout](random_tensor((8, 2, 3, 2), 2)), None, stride, 1)
    _assert_same(ours, F.conv2d(x, w, None, stride, 1, 1, groups), torch.float64, f"conv2d {layout}")
    _assert_same(ours_t, F.conv_transpose2d(x, random_tensor((8, 2, 3, 2), 2), None, stride, 1), torch.float64,
                 f"conv_transpose2d {layout}")


@pytest.mark.parametrize("fn", ["conv2d", "conv_transpose2d"])
def test_integer_and_complex_inputs_match_torch(fn):
    """torch accepts integer and complex convolutions on the CPU; so does convlab, exactly for integers."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(-5, 5, (2, 4, 9, 8), generator=generator)
    w = torch.randint(-3, 3, (4, 4, 3, 3), generator=generator)
    assert torch.equal(getattr(CF, fn)(x, w, padding=1), getattr(F, fn)(x, w, padding=1))
    xc, wc = x.to(torch.complex128) * (1 + 2j), w.to(torch.complex128) * (2 - 1j)
    _assert_same(getattr(CF, fn)(xc, wc, padding=1), getattr(F, fn)(xc, wc, padding=1), torch.float64, fn)

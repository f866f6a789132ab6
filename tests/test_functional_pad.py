"""convlab.functional.pad against torch.nn.functional.pad: every mode, cropping, gradients, devices."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from convlab.checks.guard import forbid_builtin_kernels
from convlab.functional import pad
from tests.strategies import random_tensor

pytestmark = pytest.mark.kernels

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
MODES = ["constant", "reflect", "replicate", "circular"]


@st.composite
def pad_cases(draw, mode, batch=st.sampled_from([None, 0, 1, 2])):
    """(input shape, pad) that torch accepts for `mode`; negative pads crop.

    Non-constant modes pad the last 1-3 dims of a (C, *spatial) or (N, C, *spatial) input.
    Circular pads stay within what is left after cropping (torch reads uninitialised memory
    beyond that).
    """
    if mode == "constant":
        shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=5)))
        padded = draw(st.integers(0, len(shape)))
        pads = []
        for size in shape[::-1][:padded]:
            left = draw(st.integers(-size, 3))
            pads += [left, draw(st.integers(-(size + min(left, 0)), 3))]
        return shape, tuple(pads)
    dims = draw(st.integers(1, 3))
    n = draw(batch)
    spatial = tuple(draw(st.lists(st.integers(1, 5), min_size=dims, max_size=dims)))
    shape = ((draw(st.integers(1, 3)),) if n is None else (n, draw(st.integers(1, 3)))) + spatial
    pads = []
    for size in spatial[::-1]:
        if mode == "reflect":
            left = draw(st.integers(-size + 1, size - 1))
            right = draw(st.integers(max(-size + 1, 1 - size - left), size - 1))
        elif mode == "replicate":
            left = draw(st.integers(-size + 1, 4))
            right = draw(st.integers(1 - size - left, 4))
        else:
            left = draw(st.integers(-size + 1, size))
            kept = size - max(-left, 0)
            right = draw(st.integers(-kept + 1, kept))
            kept -= max(-right, 0)
            assume(left <= kept and right <= kept)
        pads += [left, right]
    return shape, tuple(pads)


def _assert_same(ours, theirs, what):
    assert type(ours) is torch.Tensor, f"{what}: got {type(ours).__name__}, not a torch.Tensor"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.device == theirs.device, f"{what}: device {ours.device} != torch's {theirs.device}"
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_pad_matches_torch(mode, dtype, data):
    shape, pads = data.draw(pad_cases(mode))
    x = random_tensor(shape, data.draw(st.integers(0, 2**30)), dtype)
    value = data.draw(st.sampled_from([None, 0.0, -1.5, 7.0])) if mode == "constant" else None
    _assert_same(pad(x, pads, mode, value), F.pad(x.double(), pads, mode, value).to(dtype),
                 f"pad(shape={shape}, pad={pads}, mode={mode!r}, value={value})")


@pytest.mark.parametrize("mode, dtype", [  # torch has no bool kernel for reflect or replicate
    (mode, dtype) for mode in MODES for dtype in (torch.int64, torch.int32, torch.bool)
    if not (dtype == torch.bool and mode in ("reflect", "replicate"))])
@given(data=st.data())
def test_pad_keeps_integer_and_bool_dtypes(mode, dtype, data):
    shape, pads = data.draw(pad_cases(mode))
    x = (random_tensor(shape, data.draw(st.integers(0, 2**30))) * 5).to(dtype)
    value = data.draw(st.sampled_from([None, 1, 3])) if mode == "constant" else None
    _assert_same(pad(x, pads, mode, value), F.pad(x, pads, mode, value), f"pad {dtype} {shape} {pads}")


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_pad_gradient_matches_torch(mode, data):
    shape, pads = data.draw(pad_cases(mode, batch=st.sampled_from([None, 1, 2])))
    seed = data.draw(st.integers(0, 2**30))
    x = random_tensor(shape, seed, requires_grad=True)
    ours, theirs = pad(x, pads, mode), F.pad(x, pads, mode)
    assume(theirs.numel() > 0)
    grad = random_tensor(theirs.shape, seed + 1)
    (g_ours,) = torch.autograd.grad(ours, x, grad)
    (g_theirs,) = torch.autograd.grad(theirs, x, grad)
    torch.testing.assert_close(g_ours, g_theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_pad_on_meta_matches_torch(mode, data):
    shape, pads = data.draw(pad_cases(mode))
    x = torch.empty(shape, device="meta", dtype=torch.float32)
    ours, theirs = pad(x, pads, mode), F.pad(x, pads, mode)
    assert (ours.device, ours.shape, ours.dtype) == (theirs.device, theirs.shape, theirs.dtype)


@needs_cuda
@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_pad_on_cuda_matches_torch(mode, data):
    shape, pads = data.draw(pad_cases(mode))
    x = random_tensor(shape, data.draw(st.integers(0, 2**30)), torch.float32, device="cuda")
    _assert_same(pad(x, pads, mode), F.pad(x, pads, mode), f"pad cuda {shape} {pads} {mode}")


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@given(data=st.data())
def test_pad_rejects_what_torch_rejects(mode, data):
    """Random (often invalid) pads: torch and pad accept and reject the same ones."""
    dims = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(0 if mode == "constant" else 1, 4),
                                     min_size=dims + 1, max_size=dims + 2)))
    pads = tuple(data.draw(st.lists(st.integers(-5, 5), min_size=0, max_size=2 * dims + 1)))
    x = random_tensor(shape, 0)
    try:
        theirs = F.pad(x, pads, mode)
    except (RuntimeError, ValueError):
        with pytest.raises((RuntimeError, ValueError)):
            pad(x, pads, mode)
        return
    _assert_same(pad(x, pads, mode), theirs, f"pad(shape={shape}, pad={pads}, mode={mode!r})")


X = torch.randn(2, 3, 4, 5)
BAD = {  # name: (input, pad, mode, value, error, text the message must hold)
    "odd length": (X, (1, 2, 3), "constant", None, ValueError, "pad=(1, 2, 3)"),
    "too long": (X, (1,) * 10, "constant", None, ValueError, "pad=(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)"),
    "float pad": (X, (1.5, 1), "constant", None, TypeError, "pad=(1.5, 1)"),
    "unknown mode": (X[0], (1, 1), "symmetric", None, NotImplementedError, "mode='symmetric'"),
    "value with reflect": (X[0], (1, 1), "reflect", 2.0, ValueError, "value=2.0"),
    "reflect as wide as input": (X[0], (5, 0), "reflect", None, ValueError, "pad=(5, 0)"),
    "crop below zero": (X, (-3, -3), "constant", None, ValueError, "pad=(-3, -3)"),
    "circular wraps twice": (X[0], (6, 0), "circular", None, ValueError, "pad=(6, 0)"),
    "replicate needs 3-D input": (X[0, 0], (1, 1, 1, 1), "replicate", None, NotImplementedError,
                                  "input.shape=(4, 5)"),
    "replicate on 4-D input, 1 dim": (X, (1, 1), "replicate", None, NotImplementedError,
                                      "input.shape=(2, 3, 4, 5)"),
    "reflect on empty channels": (X[0, :, :0], (1, 1), "reflect", None, ValueError,
                                  "input.shape=(3, 0, 5)"),
    "nothing left": (X[0], (-3, -2), "replicate", None, ValueError, "pad=(-3, -2)"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_name_the_argument(name):
    input, pads, mode, value, error, text = BAD[name]
    with pytest.raises(error) as info:
        pad(input, pads, mode, value)
    assert text in str(info.value), f"{name}: message {str(info.value)!r} does not name {text!r}"


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_are_rejected_by_torch_too(name):
    """Each case above is one torch rejects as well, so pad is not stricter than torch."""
    input, pads, mode, value, _, _ = BAD[name]
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        F.pad(input, pads, mode, value)


@pytest.mark.parametrize("mode", MODES)
def test_pad_dispatches_no_torch_padding_kernel(mode):
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    with forbid_builtin_kernels() as seen:
        out = pad(x, (2, 1, -1, 3), mode)
        out.backward(torch.ones_like(out))
    assert seen.ops == [], f"pad(mode={mode!r}) called torch's {seen.ops}"


def test_the_dispatch_record_would_see_torch_pad():
    """The check above can fail: torch's own pad is recorded."""
    with forbid_builtin_kernels() as seen:
        F.pad(torch.randn(1, 2, 3), (1, 1), mode="reflect")
    assert seen.ops

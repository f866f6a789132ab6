"""convlab.naive (plain loops) against torch.nn.functional on small inputs: values, indices, gradients."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from convlab import naive
from tests.strategies import DTYPE_TOLERANCES, conv_cases, conv_transpose_cases, random_tensor
from tests.test_functional_pooling import pool_cases

pytestmark = pytest.mark.kernels

SMALL_BATCH = st.sampled_from([None, 0, 1, 2])


def _assert_same(ours, theirs, what, dtype=torch.float64, exact=False):
    assert type(ours) is torch.Tensor, f"{what}: got {type(ours).__name__}, not a torch.Tensor"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    tolerance = dict(rtol=0, atol=0) if exact else DTYPE_TOLERANCES[dtype]
    torch.testing.assert_close(ours, theirs, equal_nan=True, **tolerance, msg=lambda m: f"{what}: {m}")


def _assert_same_gradients(ours, theirs, inputs, seed, what):
    """Gradients of both outputs with respect to `inputs`, for one random output gradient."""
    if theirs.numel() == 0:
        return  # nothing flows back from an empty output
    grad = random_tensor(theirs.shape, seed)
    for name, a, b in zip(("input", "weight", "bias"), torch.autograd.grad(ours, inputs, grad),
                          torch.autograd.grad(theirs, inputs, grad)):
        _assert_same(a, b, f"{what}: gradient of {name}")


def test_corr2d_lesson_01_example():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    torch.testing.assert_close(naive.corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


@given(h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 3), kw=st.integers(1, 3),
       seed=st.integers(0, 2**30))
def test_corr2d_matches_torch(h, w, kh, kw, seed):
    assume(kh <= h and kw <= w)
    X = random_tensor((h, w), seed, requires_grad=True)
    K = random_tensor((kh, kw), seed + 1, requires_grad=True)
    ours, theirs = naive.corr2d(X, K), F.conv2d(X[None, None], K[None, None])[0, 0]
    _assert_same(ours, theirs, f"corr2d X {(h, w)} K {(kh, kw)}")
    _assert_same_gradients(ours, theirs, (X, K), seed + 2, "corr2d")


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about its own copy
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_conv2d_matches_torch(dtype, data):
    case = data.draw(conv_cases(2, max_size=3, batch=SMALL_BATCH))
    x, w, b = case.tensors(dtype)
    reference = F.conv2d(x.double(), w.double(), None if b is None else b.double(), **case.kwargs)
    _assert_same(naive.conv2d(x, w, b, **case.kwargs), reference.to(dtype), f"conv2d {case}", dtype)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@given(data=st.data())
def test_conv2d_gradients_match_torch(data):
    case = data.draw(conv_cases(2, max_size=2, batch=st.sampled_from([None, 1, 2])))
    x, w, b = case.tensors(requires_grad=True)
    inputs = (x, w) if b is None else (x, w, b)
    _assert_same_gradients(naive.conv2d(x, w, b, **case.kwargs), F.conv2d(x, w, b, **case.kwargs),
                           inputs, case.seed + 3, f"conv2d {case}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_conv_transpose2d_matches_torch(dtype, data):
    case = data.draw(conv_transpose_cases(2, max_size=3, batch=SMALL_BATCH))
    x, w, b = case.tensors(dtype)
    reference = F.conv_transpose2d(x.double(), w.double(), None if b is None else b.double(), **case.kwargs)
    _assert_same(naive.conv_transpose2d(x, w, b, **case.kwargs), reference.to(dtype),
                 f"conv_transpose2d {case}", dtype)


@given(data=st.data())
def test_conv_transpose2d_gradients_match_torch(data):
    case = data.draw(conv_transpose_cases(2, max_size=2, batch=st.sampled_from([None, 1, 2])))
    x, w, b = case.tensors(requires_grad=True)
    inputs = (x, w) if b is None else (x, w, b)
    _assert_same_gradients(naive.conv_transpose2d(x, w, b, **case.kwargs),
                           F.conv_transpose2d(x, w, b, **case.kwargs), inputs, case.seed + 3,
                           f"conv_transpose2d {case}")


@given(data=st.data())
def test_max_pool2d_values_and_indices_match_torch(data):
    case = data.draw(pool_cases(2, batch=SMALL_BATCH))
    x = case.input()
    values, indices = case.call(naive.max_pool2d, x, return_indices=True)
    ref_values, ref_indices = case.call(F.max_pool2d, x, return_indices=True)
    _assert_same(values, ref_values, f"max_pool2d {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool2d indices {case}", exact=True)
    _assert_same(case.call(naive.max_pool2d, x), ref_values, f"max_pool2d {case}", exact=True)


@given(data=st.data())
def test_avg_pool2d_matches_torch(data):
    case = data.draw(pool_cases(2, average=True, batch=SMALL_BATCH))
    x = case.input(torch.float32)
    reference = case.call(F.avg_pool2d, x.double()).float()
    _assert_same(case.call(naive.avg_pool2d, x), reference, f"avg_pool2d {case}", torch.float32)
    x = (case.input() * 3).nan_to_num(posinf=5, neginf=-5).long()
    _assert_same(case.call(naive.avg_pool2d, x), case.call(F.avg_pool2d, x), f"avg_pool2d int64 {case}",
                 exact=True)


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(data=st.data())
def test_pool_gradients_match_torch(kind, data):
    """Max pooling sends each output's gradient to the first maximum only, ties included."""
    case = data.draw(pool_cases(2, average=kind == "avg", batch=st.sampled_from([None, 1, 2])))
    assume(case.values != "special" or kind == "max")
    assume(not case.has_window_without_real_tap())  # torch's backward writes out of bounds there
    x = case.input(requires_grad=True)
    ours_fn, torch_fn = (naive.max_pool2d, F.max_pool2d) if kind == "max" else (naive.avg_pool2d, F.avg_pool2d)
    _assert_same_gradients(case.call(ours_fn, x), case.call(torch_fn, x), (x,), case.seed + 1,
                           f"{kind}_pool2d {case}")


BAD = {  # name: (call, text the message must hold)
    "corr2d 3-D X": (lambda: naive.corr2d(torch.ones(1, 3, 3), torch.ones(2, 2)), "X"),
    "corr2d kernel too big": (lambda: naive.corr2d(torch.ones(2, 3), torch.ones(3, 2)), "K of shape (3, 2)"),
    "conv2d channels": (lambda: naive.conv2d(torch.ones(1, 3, 5, 5), torch.ones(2, 2, 3, 3)), "3 channels"),
    "conv2d same strided": (lambda: naive.conv2d(torch.ones(1, 2, 5, 5), torch.ones(2, 2, 3, 3), stride=2,
                                                 padding="same"), "stride=(2, 2)"),
    "conv2d too small": (lambda: naive.conv2d(torch.ones(1, 2, 2, 2), torch.ones(2, 2, 3, 3)), "kernel_size=(3, 3)"),
    "conv_transpose2d output_padding": (
        lambda: naive.conv_transpose2d(torch.ones(1, 2, 3, 3), torch.ones(2, 2, 3, 3), output_padding=1),
        "output_padding"),
    "max_pool2d padding": (lambda: naive.max_pool2d(torch.ones(1, 5, 5), 2, padding=2), "padding=(2, 2)"),
    "avg_pool2d divisor": (lambda: naive.avg_pool2d(torch.ones(1, 5, 5), 2, divisor_override=0),
                           "divisor_override=0"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_name_the_argument(name):
    call, text = BAD[name]
    with pytest.raises((ValueError, RuntimeError)) as info:
        call()
    assert text in str(info.value), f"{name}: message {str(info.value)!r} does not name {text!r}"

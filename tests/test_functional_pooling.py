"""convlab.functional max/avg pooling (1D, 2D) against torch.nn.functional: values, indices, gradients."""
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

import convlab.functional as CF
from convlab import shapes
from convlab.checks.guard import forbid_builtin_kernels
from tests.strategies import DTYPE_TOLERANCES, pool_arguments, random_tensor

pytestmark = pytest.mark.kernels

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
MAX = {1: (CF.max_pool1d, F.max_pool1d), 2: (CF.max_pool2d, F.max_pool2d)}
AVG = {1: (CF.avg_pool1d, F.avg_pool1d), 2: (CF.avg_pool2d, F.avg_pool2d)}


@dataclass
class PoolCase:
    """One pooling call: input shape, keyword arguments, how the values are drawn, a seed."""
    input_shape: tuple
    kwargs: dict
    values: str
    seed: int

    def input(self, dtype=torch.float64, device="cpu", requires_grad=False):
        """Normal values; or small integers (ties everywhere); or ties with -inf and NaN."""
        x = random_tensor(self.input_shape, self.seed)
        if self.values != "normal":
            x = (x * 2).round()
        if self.values == "special":
            x = torch.where(x > 1, float("-inf"), x)
            x = torch.where(x < -2, float("nan"), x)
        return x.to(dtype=dtype, device=device).requires_grad_(requires_grad)

    def has_window_without_real_tap(self):
        """With padding and dilation a window can miss the input (torch's backward then breaks)."""
        size = self.input_shape[-self.dims:]
        k, s, p, d = (self._tuple(name, default) for name, default in
                      (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1)))
        s = k if s is None else s
        out = shapes.pool_output_shape(size, k, s, p, d, self.kwargs.get("ceil_mode", False))
        return any(all(not 0 <= o * si - pi + t * di < n for t in range(ki))
                   for n, count, ki, si, pi, di in zip(size, out, k, s, p, d) for o in range(count))

    @property
    def dims(self):
        return self.kwargs["_dims"]

    def _tuple(self, name, default):
        value = self.kwargs.get(name, default)
        if value is None:
            return None
        return tuple(value) * (self.dims // len(value)) if isinstance(value, (tuple, list)) \
            else (value,) * self.dims

    def call(self, fn, x, **extra):
        kwargs = {k: v for k, v in self.kwargs.items() if k != "_dims"}
        return fn(x, **kwargs, **extra)


def _as_arg(draw, values):
    """An int when all entries agree (sometimes), else a tuple or list, as torch accepts."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return tuple(values) if draw(st.booleans()) else list(values)


@st.composite
def pool_cases(draw, dims, average=False, batch=st.sampled_from([None, 0, 1, 2])):
    """Valid arguments for max_pool{dims}d (or avg_pool{dims}d), non-square in general."""
    per_dim = [draw(pool_arguments(max_size=9)) for _ in range(dims)]
    size = tuple(s for s, _ in per_dim)

    def arg(name):
        return _as_arg(draw, tuple(kw[name] for _, kw in per_dim))

    kwargs = {"kernel_size": arg("kernel_size"), "padding": arg("padding"),
              "ceil_mode": per_dim[0][1]["ceil_mode"], "_dims": dims}
    if draw(st.booleans()):
        kwargs["stride"] = arg("stride")
    elif draw(st.booleans()):
        kwargs["stride"] = None
    if average:
        kwargs["count_include_pad"] = draw(st.booleans())
        if dims == 2:
            kwargs["divisor_override"] = draw(st.sampled_from([None, None, 1, 3, -2]))
    else:
        kwargs["dilation"] = arg("dilation")
    n = draw(batch)
    channels = draw(st.integers(1, 3))
    shape = ((channels,) if n is None else (n, channels)) + size
    values = draw(st.sampled_from(["normal", "ties", "special"]))
    return PoolCase(shape, kwargs, values, draw(st.integers(0, 2**30)))


def _assert_same(ours, theirs, what, exact=False, dtype=torch.float64):
    assert type(ours) is torch.Tensor, f"{what}: got {type(ours).__name__}, not a torch.Tensor"
    assert ours.shape == theirs.shape, f"{what}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    assert ours.device == theirs.device, f"{what}: device {ours.device} != torch's {theirs.device}"
    tolerance = dict(rtol=0, atol=0) if exact else DTYPE_TOLERANCES[dtype]
    torch.testing.assert_close(ours, theirs, equal_nan=True, **tolerance, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_max_pool_values_and_indices_match_torch(dims, dtype, data):
    case = data.draw(pool_cases(dims))
    ours_fn, torch_fn = MAX[dims]
    x = case.input(dtype)
    values, indices = case.call(ours_fn, x, return_indices=True)
    ref_values, ref_indices = case.call(torch_fn, x.double(), return_indices=True)
    _assert_same(values, ref_values.to(dtype), f"max_pool{dims}d {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool{dims}d indices {case}", exact=True)
    _assert_same(case.call(ours_fn, x), ref_values.to(dtype), f"max_pool{dims}d {case}", exact=True)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
@given(data=st.data())
def test_max_pool_keeps_integer_dtypes(dims, dtype, data):
    case = data.draw(pool_cases(dims))
    ours_fn, torch_fn = MAX[dims]
    x = (case.input().nan_to_num(posinf=9, neginf=0).abs() * 3).to(dtype)
    values, indices = case.call(ours_fn, x, return_indices=True)
    ref_values, ref_indices = case.call(torch_fn, x, return_indices=True)
    _assert_same(values, ref_values, f"max_pool{dims}d {dtype} {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool{dims}d {dtype} indices {case}", exact=True)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@given(data=st.data())
def test_avg_pool_matches_torch(dims, dtype, data):
    case = data.draw(pool_cases(dims, average=True))
    ours_fn, torch_fn = AVG[dims]
    x = case.input(dtype)
    reference = case.call(torch_fn, x.double()).to(dtype)
    _assert_same(case.call(ours_fn, x), reference, f"avg_pool{dims}d {case}", dtype=dtype)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 2e-3), (torch.bfloat16, 2e-2)])
@given(data=st.data())
def test_pools_in_reduced_precision(dims, dtype, tolerance, data):
    """Max is a selection, so exact; an average is as close to float64 as a few roundings allow."""
    case = data.draw(pool_cases(dims))
    x = case.input(dtype)
    values, indices = case.call(MAX[dims][0], x, return_indices=True)
    ref_values, ref_indices = case.call(MAX[dims][1], x, return_indices=True)
    _assert_same(values, ref_values, f"max_pool{dims}d {dtype} {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool{dims}d {dtype} indices {case}", exact=True)
    case = data.draw(pool_cases(dims, average=True))
    x = random_tensor(case.input_shape, case.seed, dtype)
    ours, reference = case.call(AVG[dims][0], x), case.call(AVG[dims][1], x.double())
    assert ours.dtype == dtype
    torch.testing.assert_close(ours.double(), reference, atol=tolerance, rtol=tolerance)


@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
@given(data=st.data())
def test_pools_on_non_contiguous_input(layout, data):
    case = data.draw(pool_cases(2, batch=st.sampled_from([1, 2])))
    x = case.input()
    x = x.contiguous(memory_format=torch.channels_last) if layout == "channels_last" else \
        x.transpose(-1, -2).contiguous().transpose(-1, -2)
    x.requires_grad_(not case.has_window_without_real_tap())
    values, indices = case.call(CF.max_pool2d, x, return_indices=True)
    ref_values, ref_indices = case.call(F.max_pool2d, x, return_indices=True)
    _assert_same(values, ref_values, f"max_pool2d {layout} {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool2d {layout} indices {case}", exact=True)
    if x.requires_grad:
        grad = random_tensor(values.shape, case.seed + 1)
        _assert_same(torch.autograd.grad(values, x, grad)[0], torch.autograd.grad(ref_values, x, grad)[0],
                     f"max_pool2d {layout} gradient {case}")
    avg_case = data.draw(pool_cases(2, average=True, batch=st.sampled_from([1, 2])))
    y = random_tensor(avg_case.input_shape, avg_case.seed).transpose(-1, -2).contiguous().transpose(-1, -2)
    _assert_same(avg_case.call(CF.avg_pool2d, y), avg_case.call(F.avg_pool2d, y), f"avg_pool2d {layout} {avg_case}")


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_avg_pool_int64_divides_like_torch(dims, data):
    case = data.draw(pool_cases(dims, average=True))
    ours_fn, torch_fn = AVG[dims]
    x = (case.input().nan_to_num(posinf=7, neginf=-7) * 5).long()
    _assert_same(case.call(ours_fn, x), case.call(torch_fn, x), f"avg_pool{dims}d int64 {case}", exact=True)


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
@given(data=st.data())
def test_pool_gradients_match_torch(dims, kind, data):
    """Ties included: torch sends a max's gradient to the one input its index names."""
    case = data.draw(pool_cases(dims, average=kind == "avg", batch=st.sampled_from([None, 1, 2])))
    assume(case.values != "special" or kind == "max")
    assume(not case.has_window_without_real_tap())
    ours_fn, torch_fn = (MAX if kind == "max" else AVG)[dims]
    x = case.input(requires_grad=True)
    ours, theirs = case.call(ours_fn, x), case.call(torch_fn, x)
    grad = random_tensor(theirs.shape, case.seed + 1)
    (g_ours,) = torch.autograd.grad(ours, x, grad)
    (g_theirs,) = torch.autograd.grad(theirs, x, grad)
    _assert_same(g_ours, g_theirs, f"{kind}_pool{dims}d gradient {case}")


@given(data=st.data())
def test_max_pool_gradient_with_indices_requested(data):
    case = data.draw(pool_cases(2, batch=st.sampled_from([None, 2])))
    assume(not case.has_window_without_real_tap())
    x = case.input(requires_grad=True)
    ours, _ = case.call(CF.max_pool2d, x, return_indices=True)
    theirs, _ = case.call(F.max_pool2d, x, return_indices=True)
    grad = random_tensor(theirs.shape, case.seed + 1)
    _assert_same(torch.autograd.grad(ours, x, grad)[0], torch.autograd.grad(theirs, x, grad)[0],
                 f"max_pool2d gradient {case}")


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("kind", ["max", "avg"])
@given(data=st.data())
def test_pool_on_meta_matches_torch(dims, kind, data):
    case = data.draw(pool_cases(dims, average=kind == "avg"))
    ours_fn, torch_fn = (MAX if kind == "max" else AVG)[dims]
    x = torch.empty(case.input_shape, device="meta")
    extra = {"return_indices": True} if kind == "max" else {}
    ours, theirs = case.call(ours_fn, x, **extra), case.call(torch_fn, x, **extra)
    for a, b in zip(ours if kind == "max" else [ours], theirs if kind == "max" else [theirs]):
        assert (a.device, a.shape, a.dtype) == (b.device, b.shape, b.dtype), f"{kind}_pool{dims}d {case}"


@needs_cuda
@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_pool_on_cuda_matches_torch(dims, data):
    case = data.draw(pool_cases(dims))
    x = case.input(torch.float32, device="cuda")
    values, indices = case.call(MAX[dims][0], x, return_indices=True)
    ref_values, ref_indices = case.call(MAX[dims][1], x, return_indices=True)
    _assert_same(values, ref_values, f"max_pool{dims}d cuda {case}", exact=True)
    _assert_same(indices, ref_indices, f"max_pool{dims}d cuda indices {case}", exact=True)
    avg_case = data.draw(pool_cases(dims, average=True))
    x = avg_case.input(torch.float32, device="cuda")
    _assert_same(avg_case.call(AVG[dims][0], x), avg_case.call(AVG[dims][1], x.double()).float(),
                 f"avg_pool{dims}d cuda {avg_case}", dtype=torch.float32)


def test_lesson_examples():
    """Lesson 06: 224 -> 112 with 2x2 stride 2; 13 -> 6 (floor) or 7 (ceil_mode)."""
    x = torch.randn(1, 64, 224, 224)
    values, indices = CF.max_pool2d(x, 2, 2, return_indices=True)
    ref_values, ref_indices = F.max_pool2d(x, 2, 2, return_indices=True)
    assert values.shape == (1, 64, 112, 112) and torch.equal(values, ref_values)
    assert torch.equal(indices, ref_indices)
    y = torch.randn(1, 1, 13, 13)
    assert CF.max_pool2d(y, 2, 2).shape[-2:] == (6, 6)
    assert CF.max_pool2d(y, 2, 2, ceil_mode=True).shape[-2:] == (7, 7)
    torch.testing.assert_close(CF.avg_pool2d(y, 2, 2, ceil_mode=True), F.avg_pool2d(y, 2, 2, ceil_mode=True))


@pytest.mark.parametrize("op", ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"])
@pytest.mark.parametrize("kwargs", [{"kernel_size": [3], "stride": ()}, {"kernel_size": (3,), "stride": [2]},
                                    {"kernel_size": 2, "stride": None, "padding": [1]}])
def test_one_value_lists_and_empty_stride_as_torch(op, kwargs):
    """torch expands a 1-element list to every dim and reads stride=() as stride=kernel_size."""
    dims = int(op[-2])
    x = random_tensor((2, 3) + (8, 7)[:dims], 5)
    _assert_same(getattr(CF, op)(x, **kwargs), getattr(F, op)(x, **kwargs), f"{op} {kwargs}")


X2 = torch.randn(2, 3, 6, 7)
BAD = {  # name: (op name, input, kwargs, text the message must hold)
    "kernel_size 0": ("max_pool2d", X2, {"kernel_size": 0}, "kernel_size=(0, 0)"),
    "negative stride": ("avg_pool2d", X2, {"kernel_size": 2, "stride": (1, -1)}, "stride=(1, -1)"),
    "stride of 3 values": ("max_pool2d", X2, {"kernel_size": 2, "stride": (1, 1, 1)}, "stride=(1, 1, 1)"),
    "kernel of 3 values": ("avg_pool2d", X2, {"kernel_size": (2, 2, 2)}, "kernel_size=(2, 2, 2)"),
    "padding over half": ("max_pool2d", X2, {"kernel_size": 3, "padding": 2}, "padding=(2, 2)"),
    "negative padding": ("avg_pool2d", X2, {"kernel_size": 3, "padding": -1}, "padding=(-1, -1)"),
    "dilation 0": ("max_pool2d", X2, {"kernel_size": 2, "dilation": 0}, "dilation=(0, 0)"),
    "output too small": ("max_pool2d", X2, {"kernel_size": 4, "dilation": 3}, "kernel_size=(4, 4)"),
    "1d kernel too long": ("avg_pool1d", X2[0], {"kernel_size": 8}, "kernel_size=(8,)"),
    "1d wrong rank": ("max_pool1d", X2, {"kernel_size": 2}, "shape (2, 3, 6, 7)"),
    "2d wrong rank": ("avg_pool2d", X2[0, 0], {"kernel_size": 2}, "shape (6, 7)"),
    "empty channels": ("max_pool2d", X2[:, :0], {"kernel_size": 2}, "shape (2, 0, 6, 7)"),
    "divisor_override 0": ("avg_pool2d", X2, {"kernel_size": 2, "divisor_override": 0}, "divisor_override=0"),
    "bool input": ("max_pool2d", X2 > 0, {"kernel_size": 2}, "torch.bool"),
    "int32 average": ("avg_pool2d", X2.int(), {"kernel_size": 2}, "torch.int32"),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_name_the_argument(name):
    op, x, kwargs, text = BAD[name]
    with pytest.raises((ValueError, RuntimeError)) as info:
        getattr(CF, op)(x, **kwargs)
    assert op in str(info.value), f"{name}: message {str(info.value)!r} does not name {op}"
    assert text in str(info.value), f"{name}: message {str(info.value)!r} does not name {text!r}"


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments_are_rejected_by_torch_too(name):
    op, x, kwargs, _ = BAD[name]
    with pytest.raises((ValueError, RuntimeError, TypeError, IndexError)):
        getattr(F, op)(x, **kwargs)


@pytest.mark.parametrize("dims", [1, 2])
@given(data=st.data())
def test_pool_rejects_what_torch_rejects(dims, data):
    """Random (often invalid) arguments: accepted and rejected exactly when torch does."""
    kind = data.draw(st.sampled_from(["max", "avg"]))
    size = tuple(data.draw(st.lists(st.integers(1, 6), min_size=dims, max_size=dims)))
    kwargs = {"kernel_size": data.draw(st.integers(0, 5)), "stride": data.draw(st.sampled_from([None, 0, 1, 2, 3])),
              "padding": data.draw(st.integers(-1, 3)), "ceil_mode": data.draw(st.booleans())}
    if kind == "max":
        kwargs["dilation"] = data.draw(st.integers(0, 3))
    x = random_tensor((2, 2) + size, 0)
    ours_fn, torch_fn = (MAX if kind == "max" else AVG)[dims]
    try:
        theirs = torch_fn(x, **kwargs)
    except RuntimeError:
        with pytest.raises((ValueError, RuntimeError)):
            ours_fn(x, **kwargs)
        return
    _assert_same(ours_fn(x, **kwargs), theirs, f"{kind}_pool{dims}d size={size} {kwargs}")


@pytest.mark.parametrize("op", ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"])
def test_pooling_dispatches_no_torch_pooling_or_padding_kernel(op):
    dims = int(op[-2])
    x = torch.randn((2, 3) + (9,) * dims, dtype=torch.float64, requires_grad=True)
    extra = {"return_indices": True, "dilation": 2} if op.startswith("max") else {}
    with forbid_builtin_kernels() as seen:
        out = getattr(CF, op)(x, 3, 2, 1, ceil_mode=True, **extra)
        out = out[0] if isinstance(out, tuple) else out
        out.backward(torch.ones_like(out))
    assert seen.ops == [], f"{op} called torch's {seen.ops}"


def test_the_dispatch_record_would_see_torch_pooling():
    """The check above can fail: torch's own pooling is recorded."""
    with forbid_builtin_kernels() as seen:
        F.avg_pool2d(torch.randn(1, 2, 4, 4), 2)
    assert seen.ops

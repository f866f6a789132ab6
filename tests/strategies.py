"""Hypothesis strategies for the kernel tests: valid argument sets for convolution, transposed
convolution, unfold/fold and pooling shapes, and seeded random tensors.

Strategies draw shapes and arguments only; tensor values come from ``random_tensor`` with a drawn
seed, so a failing example is small to print and exact to replay.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from hypothesis import strategies as st

from convlab import shapes

DTYPE_TOLERANCES = {torch.float64: dict(atol=1e-10, rtol=1e-10), torch.float32: dict(atol=1e-4, rtol=1e-4)}


def random_tensor(shape, seed: int, dtype=torch.float64, device="cpu", requires_grad=False) -> torch.Tensor:
    """Standard-normal values from a seeded CPU generator, then moved: same values on every device."""
    generator = torch.Generator().manual_seed(seed)
    values = torch.randn(tuple(shape), generator=generator, dtype=torch.float64).to(dtype=dtype, device=device)
    return values.requires_grad_(requires_grad)


def _as_arg(draw, values: tuple[int, ...]):
    """An argument as torch accepts it: an int when all entries agree (sometimes), else a tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return tuple(values) if draw(st.booleans()) else list(values)


@dataclass
class ConvCase:
    """Shapes and keyword arguments of one convolution call."""
    dims: int
    input_shape: tuple
    weight_shape: tuple
    bias: bool
    kwargs: dict = field(default_factory=dict)
    seed: int = 0
    transposed: bool = False

    def tensors(self, dtype=torch.float64, device="cpu", requires_grad=False):
        """(input, weight, bias or None) with this case's seeded values."""
        x = random_tensor(self.input_shape, self.seed, dtype, device, requires_grad)
        w = random_tensor(self.weight_shape, self.seed + 1, dtype, device, requires_grad)
        b = random_tensor((self.out_channels,), self.seed + 2, dtype, device, requires_grad) if self.bias else None
        return x, w, b

    @property
    def out_channels(self) -> int:
        groups = self.kwargs.get("groups", 1)
        return self.weight_shape[1] * groups if self.transposed else self.weight_shape[0]


@st.composite
def conv_cases(draw, dims: int, max_size: int = 9, batch=st.sampled_from([None, 0, 1, 2, 3])) -> ConvCase:
    """Valid ``conv{dims}d`` arguments: any groups, stride, dilation, padding (int, tuple, 'same', 'valid').

    ``batch=None`` means an unbatched input. Kernels and inputs are non-square in general.
    """
    groups = draw(st.integers(1, 3))
    in_per_group = draw(st.integers(1, 3))
    out_per_group = draw(st.integers(1, 3))
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    padding_kind = draw(st.sampled_from(["int", "same", "valid"]))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    if padding_kind == "same":
        stride = (1,) * dims
        padding = "same"
        pads = shapes.same_padding(kernel, dilation)
    elif padding_kind == "valid":
        padding = "valid"
        pads = ((0, 0),) * dims
    else:
        values = tuple(draw(st.lists(st.integers(0, 3), min_size=dims, max_size=dims)))
        padding = _as_arg(draw, values)
        pads = tuple((p, p) for p in values)
    # Smallest input giving at least one output along each dimension, plus some slack.
    size = tuple(max(1, d * (k - 1) + 1 - a - b) + draw(st.integers(0, max_size))
                 for k, d, (a, b) in zip(kernel, dilation, pads))
    n = draw(batch)
    channels = groups * in_per_group
    input_shape = ((channels,) if n is None else (n, channels)) + size
    kwargs = {"stride": _as_arg(draw, stride), "padding": padding, "dilation": _as_arg(draw, dilation)}
    if groups > 1 or draw(st.booleans()):
        kwargs["groups"] = groups
    return ConvCase(dims, input_shape, (groups * out_per_group, in_per_group) + kernel, draw(st.booleans()),
                    kwargs, draw(st.integers(0, 2**30)))


@st.composite
def conv_transpose_cases(draw, dims: int, max_size: int = 7, batch=st.sampled_from([None, 0, 1, 2, 3])) -> ConvCase:
    """Valid ``conv_transpose{dims}d`` arguments, output_padding below stride or dilation."""
    groups = draw(st.integers(1, 3))
    in_per_group = draw(st.integers(1, 3))
    out_per_group = draw(st.integers(1, 3))
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=dims, max_size=dims)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=dims, max_size=dims)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = tuple(draw(st.integers(1, max_size)) for _ in range(dims))
    # Padding may take at most what keeps the output at least one long.
    padding = []
    for z, k, s, d, o in zip(size, kernel, stride, dilation, output_padding):
        most = ((z - 1) * s + d * (k - 1) + o) // 2
        padding.append(draw(st.integers(0, min(most, 3))))
    n = draw(batch)
    channels = groups * in_per_group
    input_shape = ((channels,) if n is None else (n, channels)) + size
    kwargs = {"stride": _as_arg(draw, stride), "padding": _as_arg(draw, tuple(padding)),
              "output_padding": _as_arg(draw, output_padding), "groups": groups,
              "dilation": _as_arg(draw, dilation)}
    return ConvCase(dims, input_shape, (channels, out_per_group) + kernel, draw(st.booleans()), kwargs,
                    draw(st.integers(0, 2**30)), transposed=True)


@st.composite
def unfold_cases(draw, max_size: int = 9, batch=st.sampled_from([None, 0, 1, 2])) -> tuple[tuple, dict, int]:
    """(input shape, unfold keyword arguments, seed) for a 2D unfold with at least one window."""
    kernel = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=2)))
    dilation = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=2)))
    padding = tuple(draw(st.lists(st.integers(0, 2), min_size=2, max_size=2)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=2, max_size=2)))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, max_size))
                 for k, d, p in zip(kernel, dilation, padding))
    n = draw(batch)
    channels = draw(st.integers(1, 3))
    shape = ((channels,) if n is None else (n, channels)) + size
    kwargs = {"kernel_size": _as_arg(draw, kernel), "dilation": _as_arg(draw, dilation),
              "padding": _as_arg(draw, padding), "stride": _as_arg(draw, stride)}
    return shape, kwargs, draw(st.integers(0, 2**30))


@st.composite
def pool_arguments(draw, max_size: int = 16) -> tuple[int, dict]:
    """(size, pool keyword arguments) that torch's 2D max pooling accepts along one dimension."""
    kernel = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 4))
    padding = draw(st.integers(0, kernel // 2))
    dilation = draw(st.integers(1, 3))
    ceil_mode = draw(st.booleans())
    smallest = max(1, dilation * (kernel - 1) + 1 - 2 * padding)
    size = smallest + draw(st.integers(0, max_size))
    return size, {"kernel_size": kernel, "stride": stride, "padding": padding, "dilation": dilation,
                  "ceil_mode": ceil_mode}


#: The parameters a conv2d exercise may ask ``Draw.conv_case`` to draw.
CONV_CASE_PARAMETERS = ("bias", "stride", "padding", "dilation", "groups")


@st.composite
def conv_case_requests(draw) -> tuple[int, int, tuple[str, ...]]:
    """(seed, case index, parameters) as a check asks ``convlab.checks.Draw.conv_case`` for a case."""
    parameters = draw(st.lists(st.sampled_from(CONV_CASE_PARAMETERS), unique=True))
    return draw(st.integers(0, 2**31 - 1)), draw(st.integers(0, 19)), tuple(parameters)

"""Shape arithmetic: the one home of every output-size, padding, receptive-field and cost formula.

Every kernel, check and lesson in convlab asks this module for a size instead of re-deriving it,
so a formula can only be wrong (or right) in one place. Functions named ``*_size`` work on one
spatial dimension (ints); functions named ``*_shape`` apply them to a tuple of spatial dimensions.
"""
from __future__ import annotations

import math
import operator
from typing import Sequence

from convlab import arguments

__all__ = [
    "effective_kernel_size",
    "conv_output_size",
    "conv_transpose_output_size",
    "pool_output_size",
    "same_padding",
    "receptive_field",
    "conv_parameter_count",
    "conv_macs",
    "conv_output_shape",
    "conv_transpose_output_shape",
    "pool_output_shape",
]


def _int(value, name: str, func: str, minimum: int) -> int:
    """An int-like ``value`` that is at least ``minimum``, else ValueError naming ``name``."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{func}: {name} must be an int, got {name}={value!r}") from None
    if number < minimum:
        bound = {0: "non-negative", 1: "positive"}.get(minimum, f">= {minimum}")
        raise ValueError(f"{func}: {name} must be {bound}, got {name}={value!r}")
    return number


def _padding_pair(padding, func: str) -> tuple[int, int]:
    """Padding of one dimension as (before, after): an int pads both sides equally."""
    if isinstance(padding, (tuple, list)):
        return arguments.non_negative(padding, 2, "padding", func)
    p = _int(padding, "padding", func, 0)  # checked as an int, so the message shows the int given
    return p, p


def _expand(value, n: int, name: str, func: str) -> tuple:
    """``arguments.ntuple`` that keeps each entry as it is: per-dimension padding may be a (before, after) pair."""
    return arguments.ntuple(value, n, name, func, item=lambda entry: entry)


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Span of a dilated kernel, k + (k - 1)(d - 1): a 3-tap kernel with dilation 2 covers 5 inputs."""
    k = _int(kernel_size, "kernel_size", "effective_kernel_size", 1)
    d = _int(dilation, "dilation", "effective_kernel_size", 1)
    return d * (k - 1) + 1


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1) -> int:
    """Output length of a convolution along one dimension: floor((n + 2p - d(k - 1) - 1) / s) + 1.

    ``padding`` is an int (both sides) or a (before, after) pair, as ``padding='same'`` needs for an
    even kernel. Raises ValueError when the (padded) input is shorter than the dilated kernel.
    """
    func = "conv_output_size"
    n = _int(size, "size", func, 0)
    k = _int(kernel_size, "kernel_size", func, 1)
    s = _int(stride, "stride", func, 1)
    d = _int(dilation, "dilation", func, 1)
    before, after = _padding_pair(padding, func)
    padded = n + before + after
    span = effective_kernel_size(k, d)
    if padded < span:
        raise ValueError(f"{func}: padded input size {padded} (size={n}, padding={padding!r}) is smaller than "
                         f"the dilated kernel {span} (kernel_size={k}, dilation={d}); output size would be < 1")
    return (padded - span) // s + 1


def conv_transpose_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution: (n - 1)s - 2p + d(k - 1) + output_padding + 1.

    ``output_padding`` picks one of the ``stride`` input sizes that a strided convolution maps to
    the same output size, so torch requires it to be smaller than the stride or the dilation.
    """
    func = "conv_transpose_output_size"
    n = _int(size, "size", func, 0)
    k = _int(kernel_size, "kernel_size", func, 1)
    s = _int(stride, "stride", func, 1)
    p = _int(padding, "padding", func, 0)
    op = _int(output_padding, "output_padding", func, 0)
    d = _int(dilation, "dilation", func, 1)
    if op >= s and op >= d:
        raise ValueError(f"{func}: output_padding must be smaller than either stride or dilation, got "
                         f"output_padding={op}, stride={s}, dilation={d}")
    out = (n - 1) * s - 2 * p + effective_kernel_size(k, d) + op
    if out < 1:
        raise ValueError(f"{func}: output size would be {out} (< 1) for size={n}, kernel_size={k}, stride={s}, "
                         f"padding={p}, output_padding={op}, dilation={d}")
    return out


def pool_output_size(size: int, kernel_size: int, stride: int | None = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of max/avg pooling along one dimension, torch's rule included.

    Like a convolution, but ``ceil_mode`` rounds the window count up, except that the last window
    must start inside the input or the left padding, never in the right padding alone.
    ``stride=None`` means ``stride=kernel_size``, as in ``torch.nn.functional``. Torch also requires
    ``padding <= kernel_size // 2``, so every window sees at least one real input.
    """
    func = "pool_output_size"
    n = _int(size, "size", func, 0)
    k = _int(kernel_size, "kernel_size", func, 1)
    s = k if stride is None else _int(stride, "stride", func, 1)
    p = _int(padding, "padding", func, 0)
    d = _int(dilation, "dilation", func, 1)
    if p > k // 2:
        raise ValueError(f"{func}: padding must be at most half of kernel_size, got padding={p}, kernel_size={k}")
    span = effective_kernel_size(k, d)
    numerator = n + 2 * p - span + ((s - 1) if ceil_mode else 0)
    out = numerator // s + 1  # floor division, also for a negative numerator (torch's div_rtn)
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window would start in the right padding
    if out < 1:
        raise ValueError(f"{func}: output size would be {out} (< 1) for size={n}, kernel_size={k}, stride={s}, "
                         f"padding={p}, dilation={d}, ceil_mode={ceil_mode}")
    return out


def same_padding(kernel_size, dilation=1):
    """Per-side padding that keeps the size at stride 1: (before, after), torch puts the odd one after.

    An int ``kernel_size`` gives one (before, after) pair; a tuple gives one pair per dimension.
    """
    if isinstance(kernel_size, (tuple, list)):
        dilations = _expand(dilation, len(kernel_size), "dilation", "same_padding")
        return tuple(same_padding(k, d) for k, d in zip(kernel_size, dilations))
    k = _int(kernel_size, "kernel_size", "same_padding", 1)
    d = _int(dilation, "dilation", "same_padding", 1)
    total = effective_kernel_size(k, d) - 1
    return total // 2, total - total // 2


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int] | None = None,
                    dilations: Sequence[int] | None = None) -> int:
    """Input length one output of a stack of layers sees: r += (effective_k - 1) * jump; jump *= s.

    Two stacked 3x3 layers see 5; with a stride of 2 in the first layer they see 7.
    """
    func = "receptive_field"
    ks = list(kernel_sizes)
    ss = [1] * len(ks) if strides is None else list(strides)
    ds = [1] * len(ks) if dilations is None else list(dilations)
    if len(ss) != len(ks):
        raise ValueError(f"{func}: strides must have one entry per layer ({len(ks)}), got strides={strides!r}")
    if len(ds) != len(ks):
        raise ValueError(f"{func}: dilations must have one entry per layer ({len(ks)}), got dilations={dilations!r}")
    field, jump = 1, 1
    for k, s, d in zip(ks, ss, ds):
        k = _int(k, "kernel_sizes", func, 1)
        s = _int(s, "strides", func, 1)
        d = _int(d, "dilations", func, 1)
        field += (effective_kernel_size(k, d) - 1) * jump
        jump *= s
    return field


def _groups(in_channels, out_channels, groups, func: str) -> tuple[int, int, int]:
    c_in = _int(in_channels, "in_channels", func, 1)
    c_out = _int(out_channels, "out_channels", func, 1)
    g = _int(groups, "groups", func, 1)
    if c_in % g:
        raise ValueError(f"{func}: in_channels must be divisible by groups, got in_channels={c_in}, groups={g}")
    if c_out % g:
        raise ValueError(f"{func}: out_channels must be divisible by groups, got out_channels={c_out}, groups={g}")
    return c_in, c_out, g


def conv_parameter_count(in_channels: int, out_channels: int, kernel_size, groups: int = 1,
                         bias: bool = True) -> int:
    """Weights and biases of a convolution layer: C_out * (C_in / groups) * prod(k) (+ C_out).

    Independent of the input size, which is the point of weight sharing. Also right for a
    transposed convolution, whose weight holds the same number of values.
    """
    func = "conv_parameter_count"
    c_in, c_out, g = _groups(in_channels, out_channels, groups, func)
    ks = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,)
    taps = math.prod(_int(k, "kernel_size", func, 1) for k in ks)
    return c_out * (c_in // g) * taps + (c_out if bias else 0)


def conv_macs(in_channels: int, out_channels: int, kernel_size, input_size, stride=1, padding=0,
              dilation=1, groups: int = 1) -> int:
    """Multiply-accumulates of one convolution on one sample of spatial size ``input_size`` (int or tuple).

    Each output value costs (C_in / groups) * prod(k) MACs; bias additions are not counted.
    Multiply by the batch size for a batch, and by 2 for the usual FLOP count.
    """
    func = "conv_macs"
    c_in, c_out, g = _groups(in_channels, out_channels, groups, func)
    if isinstance(input_size, (tuple, list)):
        size = tuple(input_size)
    else:  # an int size is repeated over as many dimensions as the kernel has
        size = (input_size,) * (len(kernel_size) if isinstance(kernel_size, (tuple, list)) else 1)
    ks = _expand(kernel_size, len(size), "kernel_size", func)
    out = conv_output_shape(size, ks, stride, padding, dilation)
    return math.prod(out) * c_out * (c_in // g) * math.prod(ks)


def conv_output_shape(input_size, kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, ...]:
    """``conv_output_size`` per spatial dimension of ``input_size`` (a tuple such as (H, W)).

    Each argument is an int for every dimension or one value per dimension; a per-dimension
    padding may itself be a (before, after) pair.
    """
    func = "conv_output_shape"
    size = tuple(input_size)
    n = len(size)
    ks, ss, ps, ds = (_expand(v, n, name, func) for v, name in
                      ((kernel_size, "kernel_size"), (stride, "stride"), (padding, "padding"), (dilation, "dilation")))
    return tuple(conv_output_size(*args) for args in zip(size, ks, ss, ps, ds))


def conv_transpose_output_shape(input_size, kernel_size, stride=1, padding=0, output_padding=0,
                                dilation=1) -> tuple[int, ...]:
    """``conv_transpose_output_size`` per spatial dimension of ``input_size``."""
    func = "conv_transpose_output_shape"
    size = tuple(input_size)
    n = len(size)
    args = [_expand(v, n, name, func) for v, name in
            ((kernel_size, "kernel_size"), (stride, "stride"), (padding, "padding"),
             (output_padding, "output_padding"), (dilation, "dilation"))]
    return tuple(conv_transpose_output_size(*a) for a in zip(size, *args))


def pool_output_shape(input_size, kernel_size, stride=None, padding=0, dilation=1,
                      ceil_mode: bool = False) -> tuple[int, ...]:
    """``pool_output_size`` per spatial dimension of ``input_size``; ``stride=None`` means kernel_size."""
    func = "pool_output_shape"
    size = tuple(input_size)
    n = len(size)
    ks = _expand(kernel_size, n, "kernel_size", func)
    ss = ks if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else \
        _expand(stride, n, "stride", func)
    ps = _expand(padding, n, "padding", func)
    ds = _expand(dilation, n, "dilation", func)
    return tuple(pool_output_size(z, k, s, p, d, ceil_mode) for z, k, s, p, d in zip(size, ks, ss, ps, ds))


def conv_padding(padding, kernel_size: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                 op: str) -> tuple[tuple[int, int], ...]:
    """Convolution ``padding`` (int, tuple, ``'valid'`` or ``'same'``) as one (before, after) pair per dimension.

    ``'same'`` is only defined at stride 1 (torch rejects it otherwise); an even dilated kernel
    gets its extra padding after, as torch does.
    """
    n = len(kernel_size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions, "
                                 f"got stride={stride!r}")
            return tuple(same_padding(k, d) for k, d in zip(kernel_size, dilation))
        raise ValueError(f"{op}: padding must be an int, a tuple of {n} ints, 'valid' or 'same', "
                         f"got padding={padding!r}")
    pads = arguments.non_negative(padding, n, "padding", op)
    return tuple((p, p) for p in pads)

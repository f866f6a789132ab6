"""Fast paths of the convolution: the same sum as conv.py's im2col, computed without its big copy.

``conv.py`` holds the algorithm the lesson teaches (copy every window into a column, one matmul);
this module holds what only makes it faster, for the shapes where that copy is what costs:

* depthwise (one input channel per group): a multiply-add per kernel tap of an input slice and
  that tap's weights, into the block of outputs the tap reaches; padding is never materialised;
* shifted matmul (stride 1, large inputs, enough channels): with the padded input flattened to
  (N, C, positions), the windows of tap k for every output of a sample are the buffer shifted by a
  constant offset, a strided view BLAS reads as it is, so one accumulated matmul per tap,
  (O, C) @ (C, positions), needs no copy; positions that wrap around a row are computed and thrown
  away.
"""
from __future__ import annotations

import itertools
import math

import torch

from convlab.functional.fold import tap_overlap

__all__: list[str] = []  # nothing here is part of the API: conv.py calls ``convolution``

# Shifted matmul pays off once the im2col buffer would stop fitting in cache, with channels enough
# for each of its matmuls (a sum over the channels of one tap) to run efficiently.
_SHIFT_MIN_CHANNELS = 16
_SHIFT_MIN_COLUMNS = 1 << 20


def _tap_offsets(kernel_size, dilation, strides) -> list[int]:
    """Flat offset of every kernel tap (row-major) in an image with the given element strides."""
    return [sum(k * d * s for k, d, s in zip(tap, dilation, strides))
            for tap in itertools.product(*(range(k) for k in kernel_size))]


def _padded_size(input, padding):
    """Spatial size of ``input`` (N, C, *spatial) once padded by (before, after) per dimension."""
    return [s + a + b for s, (a, b) in zip(input.shape[2:], padding)]


def _depthwise(input, weight, groups, stride, padding, dilation, out_size):
    """One input channel per group: a multiply-add per tap of (input) * (that tap's weights).

    Padding is never materialised: each tap adds into the block of outputs whose window puts it
    inside the input, reading the matching (strided) slice of the input. A tap that covers every
    output (the centre tap of 'same' padding, any tap without padding) starts the sum.
    """
    n = input.shape[0]
    kernel_size = tuple(weight.shape[2:])
    dims = len(kernel_size)
    og = weight.shape[0] // groups
    x = input.view(n, groups, 1, *input.shape[2:])  # (N, G, 1, *spatial)
    w = weight.reshape(groups, og, -1)  # (G, O/G, taps)
    taps = list(itertools.product(*(range(k) for k in kernel_size)))
    before = [b for b, _ in padding]
    ranges = [tap_overlap(tap, input.shape[2:], stride, before, dilation, out_size) for tap in taps]
    whole = tuple(slice(0, o) for o in out_size)
    full = [t for t, r in enumerate(ranges) if r is not None and r[0] == whole]
    everything = (slice(None),) * 3
    if full:
        first = full[0]
        out = x[everything + ranges[first][1]] * w[:, :, first].reshape(groups, og, *([1] * dims))  # (N, G, O/G, *out)
    else:
        first = None
        out = input.new_zeros(n, groups, og, *out_size)  # (N, G, O/G, *out)
        # An empty multiply-add keeps out in the autograd graph even if every tap reads padding only.
        nothing = everything + (slice(0, 0),) * dims
        out[nothing].addcmul_(x[nothing], w[:, :, 0].reshape(groups, og, *([1] * dims)))
    for t, r in enumerate(ranges):
        if r is None or t == first:
            continue
        w_t = w[:, :, t].reshape(groups, og, *([1] * dims))  # (G, O/G, 1...)
        out[everything + r[0]].addcmul_(x[everything + r[1]], w_t)
    return out.view(n, groups * og, *out_size)  # (N, O, *out)


def _flat_padded(input, padding, extra: int) -> torch.Tensor:
    """``input`` (N, C, *spatial) copied into a zero buffer (N, C, prod(padded) + extra), padded positions flat.

    ``extra`` zeros after each channel's grid let the last taps read past its end.
    """
    n, c = input.shape[:2]
    padded_size = _padded_size(input, padding)
    plane = math.prod(padded_size)
    flat = input.new_empty(n, c, plane + extra)
    flat[:, :, plane:].zero_()
    grid = flat[:, :, :plane].view(n, c, *padded_size)
    # Zero only the border, each element once: the inside is overwritten with the input anyway.
    for d, (s, (before, after)) in enumerate(zip(input.shape[2:], padding)):
        leading = (slice(None),) * (d + 2)
        grid[leading + (slice(0, before),)].zero_()
        grid[leading + (slice(before + s, None),)].zero_()
    grid[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in zip(input.shape[2:], padding))] = input
    return flat


def _shifted_matmul(input, weight, padding, dilation, out_size):
    """Stride 1, one group: out[:, :, p] += W[tap] @ padded[:, :, p + offset(tap)], one matmul per tap.

    Output position p of a sample sits at p_0 * row + ... in the padded grid's numbering, so every
    tap reads the flat padded input from a constant offset on: a strided view, never a copy. The
    rows of the padded grid past out_d in some dimension are computed and dropped at the end.
    """
    n = input.shape[0]
    dims = weight.dim() - 2
    kernel_size = tuple(weight.shape[2:])
    padded_size = _padded_size(input, padding)
    strides = [math.prod(padded_size[i + 1:]) for i in range(dims)]  # flat steps per index in each dimension
    offsets = _tap_offsets(kernel_size, dilation, strides)
    flat = _flat_padded(input, padding, extra=offsets[-1])  # (N, C, plane + extra)
    w = weight.reshape(weight.shape[0], weight.shape[1], len(offsets)).permute(2, 0, 1).contiguous()  # (taps, O, C)
    span = out_size[0] * strides[0]  # through the last output row
    out = input.new_empty(n, weight.shape[0], span)  # (N, O, span)
    for t, offset in enumerate(offsets):
        # beta=0: the first tap overwrites the uninitialised buffer
        out.baddbmm_(w[t].expand(n, -1, -1), flat[:, :, offset:offset + span], beta=0 if t == 0 else 1)
    grid = out.view(n, weight.shape[0], out_size[0], *padded_size[1:])  # (N, O, out_0, *padded rest)
    kept = grid[(slice(None),) * 3 + tuple(slice(0, o) for o in out_size[1:])]
    return kept.contiguous()  # (N, O, *out), as torch lays it out (1D: already so, no copy)


def convolution(input, weight, groups, stride, padding, dilation, out_size):
    """The convolution by a fast path where one applies to this shape, else None (use im2col).

    ``padding`` is (before, after) per dimension, ``out_size`` the output's spatial size.
    """
    n, c = input.shape[:2]
    kernel_size = tuple(weight.shape[2:])
    cg = c // groups
    if cg == 1 and c > 1:
        return _depthwise(input, weight, groups, stride, padding, dilation, out_size)
    column_count = n * c * math.prod(kernel_size) * math.prod(out_size)
    # Grouped, each tap's matmul would sum over C/G channels only, which BLAS runs slowly: im2col's are deeper.
    if (groups == 1 and all(s == 1 for s in stride) and c >= _SHIFT_MIN_CHANNELS and column_count >= _SHIFT_MIN_COLUMNS
            and n > 0):
        return _shifted_matmul(input, weight, padding, dilation, out_size)
    return None

"""Sliding windows as columns and back: zero padding, im2col (``unfold``) and col2im (``fold``).

The N-d helpers here are what every convolution kernel is built on: ``zero_padded`` copies the
input into a zero buffer, ``windows`` views every (dilated, strided) window of it without copying,
and ``scatter_windows`` adds windows back into an image, the adjoint of ``windows``. ``unfold`` and
``fold`` are their 2D twins of ``torch.nn.functional``.
"""
from __future__ import annotations

import itertools
import math

import torch

from convlab import shapes
from convlab.arguments import add_batch_dim, fitted_shape, positive, window_args

__all__ = ["unfold", "fold"]


def zero_padded(input: torch.Tensor, padding: tuple[tuple[int, int], ...]) -> torch.Tensor:
    """``input`` (N, C, *spatial) inside a zero buffer (N, C, *padded), padding as (before, after) per dim.

    Without padding the input itself is returned, so a view costs nothing.
    """
    if all(p == (0, 0) for p in padding):
        return input
    n, c, *size = input.shape
    padded = [s + before + after for s, (before, after) in zip(size, padding)]
    buffer = input.new_zeros(n, c, *padded)  # (N, C, *padded)
    inner = tuple(slice(before, before + s) for s, (before, _) in zip(size, padding))
    buffer[(slice(None), slice(None)) + inner] = input
    return buffer


def windows(padded: torch.Tensor, kernel_size: tuple[int, ...], stride: tuple[int, ...],
            dilation: tuple[int, ...], output_size: tuple[int, ...]) -> torch.Tensor:
    """Every window of ``padded`` (N, C, *padded) as a view (N, C, *kernel_size, *output_size).

    Element [n, c, *k, *o] is padded[n, c, o * stride + k * dilation]: moving one kernel tap steps
    ``dilation`` elements, moving one output position steps ``stride`` elements. No copy is made.
    """
    sn, sc, *spatial = padded.stride()
    tap_strides = [s * d for s, d in zip(spatial, dilation)]
    position_strides = [s * t for s, t in zip(spatial, stride)]
    return padded.as_strided(
        (padded.shape[0], padded.shape[1], *kernel_size, *output_size),
        (sn, sc, *tap_strides, *position_strides),
        padded.storage_offset(),
    )


def tap_overlap(tap, size, stride, before, dilation, blocks):
    """Where one kernel tap meets the (unpadded) input, over every window at once.

    Tap k of window b reads input k * dilation + b * stride - before (``before``: the padding
    ahead of each dimension). Returns (window slices, input slices), one per dimension, that pair
    every window whose tap lands inside the input with the input it lands on; None if the tap
    only ever lands in the padding.
    """
    windows_hit, inputs_hit = [], []
    for t, z, s, p, d, b in zip(tap, size, stride, before, dilation, blocks):
        start = t * d - p  # where window 0's tap lands
        first = max(0, -(start // s))  # first window landing at >= 0
        last = min(b - 1, (z - 1 - start) // s)  # last window landing at < size
        if first > last:
            return None
        windows_hit.append(slice(first, last + 1))
        inputs_hit.append(slice(start + first * s, start + last * s + 1, s))
    return tuple(windows_hit), tuple(inputs_hit)


def scatter_windows(columns: torch.Tensor, size: tuple[int, ...], stride: tuple[int, ...],
                    dilation: tuple[int, ...], padding: tuple[int, ...] | None = None) -> torch.Tensor:
    """Add windows (*batch, *kernel_size, *blocks) into a zero image (*batch, *size); the adjoint of ``windows``.

    Tap k of block b lands on k * dilation + b * stride - padding; what lands in the padding is
    dropped. One strided slice-add per kernel tap (not per position) moves every block at once.
    """
    dims = len(size)
    batch = columns.shape[:columns.dim() - 2 * dims]
    kernel_size, blocks = columns.shape[len(batch):len(batch) + dims], columns.shape[len(batch) + dims:]
    padding = (0,) * dims if padding is None else padding
    image = columns.new_zeros(*batch, *size)
    everything = (slice(None),) * len(batch)
    # An empty add keeps the image in the autograd graph even if every tap lands in the padding.
    image[everything + (slice(0, 0),) * dims].add_(columns[everything + (0,) * dims + (slice(0, 0),) * dims])
    for tap in itertools.product(*(range(k) for k in kernel_size)):
        hit = tap_overlap(tap, size, stride, padding, dilation, blocks)
        if hit is not None:
            source, target = hit
            image[everything + target].add_(columns[everything + tap + source])
    return image


def _blocks(op: str, size, kernel_size, stride, padding, dilation) -> tuple[int, ...]:
    """Number of windows per dimension, or an error that names every argument."""
    return fitted_shape(op, shapes.conv_output_shape, size, kernel_size=kernel_size, stride=stride,
                        padding=padding, dilation=dilation)


def unfold(input: torch.Tensor, kernel_size, dilation=1, padding=0, stride=1) -> torch.Tensor:
    """im2col: (N, C, H, W) -> (N, C * kh * kw, L), one column per window, as ``torch.nn.functional.unfold``.

    Rows are ordered channel-major then kernel row then kernel column; columns run over window
    positions row by row. Unbatched (C, H, W) input gives (C * kh * kw, L).
    """
    op = "unfold"
    input, unbatched = add_batch_dim(input, 2, op)
    kernel_size, stride, padding, dilation = window_args(op, 2, kernel_size, stride, padding, dilation)
    blocks = _blocks(op, input.shape[2:], kernel_size, stride, padding, dilation)
    padded = zero_padded(input, tuple((p, p) for p in padding))
    n, c = input.shape[:2]
    columns = windows(padded, kernel_size, stride, dilation, blocks)  # (N, C, kh, kw, bh, bw)
    columns = columns.reshape(n, c * math.prod(kernel_size), math.prod(blocks))  # (N, C*kh*kw, L)
    return columns.squeeze(0) if unbatched else columns


def fold(input: torch.Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> torch.Tensor:
    """col2im: (N, C * kh * kw, L) -> (N, C, H, W), summing overlapping windows, as ``torch.nn.functional.fold``.

    The adjoint of ``unfold``, not its inverse: a pixel covered by several windows gets their sum.
    Unbatched (C * kh * kw, L) input gives (C, H, W).
    """
    op = "fold"
    input, unbatched = add_batch_dim(input, 1, op)  # (N, C*kh*kw, L); its one "spatial" dim is L
    output_size = positive(output_size, 2, "output_size", op)
    kernel_size, stride, padding, dilation = window_args(op, 2, kernel_size, stride, padding, dilation)
    taps = math.prod(kernel_size)
    if input.shape[1] % taps:
        raise RuntimeError(f"{op}: input.shape[1]={input.shape[1]} must be divisible by the product of "
                           f"kernel_size={kernel_size} ({taps})")
    blocks = _blocks(op, output_size, kernel_size, stride, padding, dilation)
    if input.shape[2] != math.prod(blocks):
        raise RuntimeError(f"{op}: input.shape[2]={input.shape[2]} must equal the number of sliding blocks "
                           f"{' * '.join(map(str, blocks))} = {math.prod(blocks)} for output_size={output_size}, "
                           f"kernel_size={kernel_size}, dilation={dilation}, padding={padding}, stride={stride}")
    n, c = input.shape[0], input.shape[1] // taps
    columns = input.reshape(n, c, *kernel_size, *blocks)  # (N, C, kh, kw, bh, bw)
    image = scatter_windows(columns, output_size, stride, dilation, padding)  # (N, C, H, W)
    return image.squeeze(0) if unbatched else image

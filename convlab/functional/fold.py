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
from convlab.arguments import add_batch_dim, check_non_negative, check_positive, ntuple

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
        source, target = [], []
        for t, d, b, s, p, z in zip(tap, dilation, blocks, stride, padding, size):
            start = t * d - p  # where block 0 of this tap lands
            first = max(0, -(start // s))  # first block landing at >= 0
            last = min(b - 1, (z - 1 - start) // s)  # last block landing at < size
            if first > last:
                break
            source.append(slice(first, last + 1))
            target.append(slice(start + first * s, start + last * s + 1, s))
        else:
            image[everything + tuple(target)].add_(columns[everything + tap + tuple(source)])
    return image


def _spatial_args(kernel_size, dilation, padding, stride, op: str):
    """The four window arguments of unfold/fold as validated pairs."""
    kernel_size = check_positive(ntuple(kernel_size, 2, "kernel_size", op), "kernel_size", op)
    dilation = check_positive(ntuple(dilation, 2, "dilation", op), "dilation", op)
    padding = check_non_negative(ntuple(padding, 2, "padding", op), "padding", op)
    stride = check_positive(ntuple(stride, 2, "stride", op), "stride", op)
    return kernel_size, dilation, padding, stride


def _blocks(op: str, size, kernel_size, dilation, padding, stride) -> tuple[int, ...]:
    """Number of windows per dimension, with an error that names every argument."""
    try:
        return shapes.conv_output_shape(size, kernel_size, stride, padding, dilation)
    except ValueError as error:
        raise ValueError(f"{op}: no complete window for spatial size {tuple(size)} with "
                         f"kernel_size={kernel_size}, dilation={dilation}, padding={padding}, stride={stride} "
                         f"({error})") from None


def unfold(input: torch.Tensor, kernel_size, dilation=1, padding=0, stride=1) -> torch.Tensor:
    """im2col: (N, C, H, W) -> (N, C * kh * kw, L), one column per window, as ``torch.nn.functional.unfold``.

    Rows are ordered channel-major then kernel row then kernel column; columns run over window
    positions row by row. Unbatched (C, H, W) input gives (C * kh * kw, L).
    """
    op = "unfold"
    input, unbatched = add_batch_dim(input, 2, op)
    kernel_size, dilation, padding, stride = _spatial_args(kernel_size, dilation, padding, stride, op)
    blocks = _blocks(op, input.shape[2:], kernel_size, dilation, padding, stride)
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
    output_size = check_positive(ntuple(output_size, 2, "output_size", op), "output_size", op)
    kernel_size, dilation, padding, stride = _spatial_args(kernel_size, dilation, padding, stride, op)
    taps = math.prod(kernel_size)
    if input.shape[1] % taps:
        raise RuntimeError(f"{op}: input.shape[1]={input.shape[1]} must be divisible by the product of "
                           f"kernel_size={kernel_size} ({taps})")
    blocks = _blocks(op, output_size, kernel_size, dilation, padding, stride)
    if input.shape[2] != math.prod(blocks):
        raise RuntimeError(f"{op}: input.shape[2]={input.shape[2]} must equal the number of sliding blocks "
                           f"{' * '.join(map(str, blocks))} = {math.prod(blocks)} for output_size={output_size}, "
                           f"kernel_size={kernel_size}, dilation={dilation}, padding={padding}, stride={stride}")
    n, c = input.shape[0], input.shape[1] // taps
    columns = input.reshape(n, c, *kernel_size, *blocks)  # (N, C, kh, kw, bh, bw)
    image = scatter_windows(columns, output_size, stride, dilation, padding)  # (N, C, H, W)
    return image.squeeze(0) if unbatched else image

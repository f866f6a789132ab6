"""Fast paths of the convolution: the same sum as conv.py's im2col, computed without its big copy.

``conv.py`` holds the algorithm the lesson teaches (copy every window into a column, one matmul);
this module holds what only makes it faster, for the shapes where that copy is what costs:

* depthwise (one input channel per group): a multiply-add per kernel tap of the input and that
  tap's weights. At stride 1 each runs over the whole flat padded input, shifted by the tap's
  offset; strided, over the slice of input that reaches the tap's block of outputs, so padding is
  never materialised;
* shifted matmul (stride 1, large inputs): every tap's windows, for every output position, are
  the padded input shifted by a constant offset, so one accumulated matmul per tap needs no copy
  of the windows; positions that wrap around a row are computed and thrown away. Two layouts:
  - channels-last (one group, 2D and 3D): the padded batch as (positions, C), the windows of a
    tap one contiguous block of rows; the taps run block by block of output positions, so each
    block stays in cache, and with few channels the taps of the last kernel dimension(s) are
    first copied next to the channels, for fewer, deeper matmuls;
  - channels-first (grouped, or 1D with enough channels): the padded input as (N*G, C/G,
    positions), a tap's operand a strided view BLAS reads as it is, one matmul batched over
    samples and groups, block by block of samples; the output comes out in torch's layout.
    (Ungrouped in 2D and 3D it measured slower than channels-last in most runs, up to 2x.)
"""
from __future__ import annotations

import itertools
import math

import torch

from convlab.functional.fold import tap_overlap, zero_padded

__all__: list[str] = []  # nothing here is part of the API: conv.py calls ``convolution``

# The shifted matmul pays off once the im2col buffer would stop fitting in cache; each of its
# matmuls sums over at least _SHIFT_MIN_DEPTH values (channels times folded taps) to run efficiently.
_SHIFT_MIN_DEPTH = 32
_SHIFT_MIN_COLUMNS = 1 << 20
# Output positions per block and thread of the channels-last layout: all taps of a block run back to back
# while its input and output stay in cache, rather than each tap streaming the whole batch.
_MATMUL_CHUNK = 8192
# Output values per block of samples of the channels-first layout, for the same reason.
_CHANNELS_FIRST_BLOCK = 1 << 19


def _column_chunks(total: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering range(total)."""
    return [slice(start, min(total, start + size)) for start in range(0, total, size)]


def _dims_to_fold(channels_per_group: int, kernel_size: tuple[int, ...]) -> int:
    """How many trailing kernel dimensions the channels-last matmul copies into its channels (see below)."""
    folded, depth = 0, channels_per_group
    while depth < _SHIFT_MIN_DEPTH and folded < len(kernel_size):
        folded += 1
        depth *= kernel_size[-folded]
    return folded


def _row_strides(size) -> list[int]:
    """Flat steps per index in each dimension of a row-major grid of ``size``."""
    return [math.prod(size[i + 1:]) for i in range(len(size))]


def _tap_offsets(kernel_size, dilation, strides) -> list[int]:
    """Flat offset of every kernel tap (row-major) in an image with the given element strides."""
    return [sum(k * d * s for k, d, s in zip(tap, dilation, strides))
            for tap in itertools.product(*(range(k) for k in kernel_size))]


def _padded_size(input, padding):
    """Spatial size of ``input`` (N, C, *spatial) once padded by (before, after) per dimension."""
    return [s + a + b for s, (a, b) in zip(input.shape[2:], padding)]


def _depthwise(input, weight, groups, stride, padding, dilation, out_size):
    """Strided, one input channel per group: a multiply-add per tap of (input) * (that tap's weights).

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


def _flat_padded(input, padding, dilation, kernel_size, out_size):
    """The padded input as (N, C, plane), each tap's flat offset in it, the span of flat positions
    through the last output row, and the padded size.

    Output position p of a sample sits at p_0 * row + ... in the padded grid's numbering, so every
    tap reads the flat padded input from a constant offset on, over the same span of positions.
    Beyond 1D the last taps of the last output row read up to a row past the grid: one spare zero row.
    """
    n, c = input.shape[:2]
    spare = ((padding[0][0], padding[0][1] + 1),) + tuple(padding[1:]) if len(padding) > 1 else padding
    padded = zero_padded(input, spare)  # (N, C, *padded)
    padded_size = padded.shape[2:]
    offsets = _tap_offsets(kernel_size, dilation, _row_strides(padded_size))
    span = out_size[0] * math.prod(padded_size[1:])
    return padded.reshape(n, c, -1), offsets, span, padded_size


def _cropped(out, out_size, padded_size):
    """(N, O, span) over the padded grid's first out_0 rows -> (N, O, *out), dropping the positions
    past out_d in the other dimensions; contiguous, as torch lays it out (1D: nothing to drop, no copy)."""
    grid = out.view(out.shape[0], out.shape[1], out_size[0], *padded_size[1:])  # (N, O, out_0, *padded rest)
    return grid[(slice(None),) * 3 + tuple(slice(0, o) for o in out_size[1:])].contiguous()


def _depthwise_shifted(input, weight, groups, padding, dilation, out_size):
    """Stride 1, one input channel per group: out += (padded input from the tap's offset) * w[tap].

    Each multiply-add runs over whole rows of the flat padded grid (`_flat_padded`) rather than
    row-wide slices of the image; positions that wrap around a row are computed and dropped.
    """
    n = input.shape[0]
    og = weight.shape[0] // groups
    flat, offsets, span, padded_size = _flat_padded(input, padding, dilation, tuple(weight.shape[2:]), out_size)
    x = flat.view(n, groups, 1, -1)  # (N, G, 1, plane)
    w = weight.reshape(groups, og, len(offsets), 1)  # (G, O/G, taps, 1)
    out = x[..., offsets[0]:offsets[0] + span] * w[:, :, 0]  # (N, G, O/G, span)
    for t, offset in enumerate(offsets[1:], start=1):
        out.addcmul_(x[..., offset:offset + span], w[:, :, t])
    return _cropped(out.view(n, groups * og, span), out_size, padded_size)


def _channels_first_matmul(input, weight, groups, padding, dilation, out_size):
    """Stride 1: out[:, :, p] += W[tap] @ padded[:, :, p + offset(tap)], one batched matmul per tap.

    Every tap's operand is a strided view of the flat padded input (`_flat_padded`), never a copy.
    The batch of each matmul is (samples, groups); the taps run block by block of samples, so each
    block of output stays in cache.
    """
    n, c = input.shape[:2]
    o = weight.shape[0]
    cg, og = c // groups, o // groups
    flat, offsets, span, padded_size = _flat_padded(input, padding, dilation, tuple(weight.shape[2:]), out_size)
    flat = flat.view(n * groups, cg, -1)  # (N*G, C/G, plane)
    samples = max(1, min(n, _CHANNELS_FIRST_BLOCK // (o * span)))  # per block
    # Each matrix contiguous, as MKL's batched matmul needs (else torch multiplies them one by one).
    w = weight.reshape(groups, og, cg, len(offsets)).permute(3, 0, 1, 2).contiguous()  # (taps, G, O/G, C/G)
    w = w.unsqueeze(1).expand(-1, samples, -1, -1, -1).reshape(len(offsets), samples * groups, og, cg)
    out = input.new_empty(n * groups, og, span)  # (N*G, O/G, span)
    for rows in _column_chunks(n * groups, samples * groups):
        block, w_block = out[rows], w[:, :rows.stop - rows.start]
        for t, offset in enumerate(offsets):
            # beta=0: the first tap overwrites the uninitialised block
            block.baddbmm_(w_block[t], flat[rows, :, offset:offset + span], beta=0 if t == 0 else 1)
    return _cropped(out.view(n, o, span), out_size, padded_size)


def _channels_last_padded(input, padding, extra: int) -> torch.Tensor:
    """``input`` (N, C, *spatial) copied into a zero buffer (N * prod(padded) + extra, C), channels innermost.

    Row r is one position of the flattened (N, *padded) grid, so the windows of a kernel tap, for
    every output position of the whole batch, are one contiguous block of rows: the buffer shifted
    by the tap's offset. ``extra`` zero rows after the grid let the last taps read past its end.
    """
    n, c = input.shape[:2]
    padded_size = _padded_size(input, padding)
    rows = n * math.prod(padded_size)
    flat = input.new_empty(rows + extra, c)
    flat[rows:].zero_()
    grid = flat[:rows].view(n, *padded_size, c)  # (N, *padded, C)
    # Zero only the border, each element once: the inside is overwritten with the input anyway.
    for d, (s, (before, after)) in enumerate(zip(input.shape[2:], padding)):
        leading = (slice(None),) * (d + 1)
        grid[leading + (slice(0, before),)].zero_()
        grid[leading + (slice(before + s, None),)].zero_()
    inner = tuple(slice(before, before + s) for s, (before, _) in zip(input.shape[2:], padding))
    grid[(slice(None),) + inner] = input.movedim(1, -1)  # (N, *spatial, C)
    return flat


def _channels_last_matmul(input, weight, padding, dilation, out_size, folded_dims: int = 0):
    """Stride 1, one group: out[rows] += (padded rows shifted by the tap's offset) @ W[tap], one matmul per tap.

    With channels innermost, a tap's operand is a contiguous (positions, C) block of the padded
    buffer, so no window is ever copied; rows that are not outputs (past out_d in some dimension,
    reads that wrap into the next row or sample) are computed and dropped at the end. The taps run
    block by block of positions, so each block of input and output stays in cache.

    With ``folded_dims`` > 0 the taps of the last ``folded_dims`` kernel dimensions are first copied,
    block by block, next to the channels (a partial im2col of the block): fewer, deeper matmuls
    when there are few channels.
    """
    n, c = input.shape[:2]
    dims = weight.dim() - 2
    kernel_size = tuple(weight.shape[2:])
    o = weight.shape[0]
    padded_size = _padded_size(input, padding)
    strides = _row_strides(padded_size)  # rows per step in each dimension
    plane = math.prod(padded_size)
    split = dims - folded_dims
    lead = _tap_offsets(kernel_size[:split], dilation[:split], strides[:split])
    trail = _tap_offsets(kernel_size[split:], dilation[split:], strides[split:])
    folded = math.prod(kernel_size[split:])
    depth = folded * c
    flat = _channels_last_padded(input, padding, extra=lead[-1] + trail[-1])  # (N*plane + extra, C)
    # Weight rows ordered (folded tap, channel), as the folded operand's columns.
    w = weight.reshape(o, c, len(lead), folded).permute(2, 3, 1, 0)  # (lead, folded, C, O)
    w = w.reshape(len(lead), depth, o).contiguous()  # (lead, folded*C, O), ready for BLAS
    total = (n - 1) * plane + out_size[0] * strides[0]  # through the last sample's last output row
    out = input.new_empty(total, o)  # (M, O)
    trail_strides = [d * s * c for d, s in zip(dilation[split:], strides[split:])]
    # Each thread takes its share of a block, so the block grows with the thread count.
    for chunk in _column_chunks(total, _MATMUL_CHUNK * torch.get_num_threads()):
        size = chunk.stop - chunk.start
        if folded_dims == 0:
            source, base = flat, chunk.start  # (rows, C)
        else:
            span = size + lead[-1]  # rows that this block's remaining taps read
            source = flat.as_strided((span, *kernel_size[split:], c), (c, *trail_strides, 1),
                                     flat.storage_offset() + chunk.start * c)  # (span, *trail k, C)
            # The folded taps overlap in memory, so copy (reshape alone may return the overlapping view,
            # which every matmul would then copy again).
            source, base = source.contiguous().view(span, depth), 0  # (span, folded*C)
        for t, offset in enumerate(lead):
            # beta=0: the first tap overwrites the uninitialised block
            out[chunk].addmm_(source[base + offset:base + offset + size], w[t], beta=0 if t == 0 else 1)
    # Element [n, o, *p] sits at row n * plane + sum(p_d * strides_d).
    grid = out.as_strided((n, o, *out_size), (plane * o, 1, *(s * o for s in strides)), out.storage_offset())
    return grid.contiguous()  # (N, O, *out), as torch lays it out


def convolution(input, weight, groups, stride, padding, dilation, out_size):
    """The convolution by a fast path where one applies to this shape, else None (use im2col).

    ``padding`` is (before, after) per dimension, ``out_size`` the output's spatial size.
    """
    n, c = input.shape[:2]
    dims = weight.dim() - 2
    kernel_size = tuple(weight.shape[2:])
    cg = c // groups
    if cg == 1 and c > 1:
        if all(s == 1 for s in stride) and n > 0:
            return _depthwise_shifted(input, weight, groups, padding, dilation, out_size)
        return _depthwise(input, weight, groups, stride, padding, dilation, out_size)
    column_count = n * c * math.prod(kernel_size) * math.prod(out_size)
    # One tap: im2col's columns are the (padded) input itself, nothing to save.
    if any(s != 1 for s in stride) or column_count < _SHIFT_MIN_COLUMNS or n == 0 or math.prod(kernel_size) == 1:
        return None
    # Grouped, channels-last matmuls would have only O/G columns; channels-first ones span the positions.
    if groups > 1 or (dims == 1 and c >= _SHIFT_MIN_DEPTH):
        return _channels_first_matmul(input, weight, groups, padding, dilation, out_size)
    folded_dims = _dims_to_fold(c, kernel_size)
    if folded_dims < dims:
        return _channels_last_matmul(input, weight, padding, dilation, out_size, folded_dims)
    return None

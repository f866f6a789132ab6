"""Convolution (cross-correlation) in 1, 2 and 3 dimensions: ``conv1d/2d/3d`` and ``corr2d``.

One N-d implementation serves every dimension. It picks one of three ways to compute the same sum,
by what is fastest for the shape at hand:

* depthwise (one input channel per group): a multiply-add of a strided window view per kernel tap;
* shifted matmul (stride 1, large inputs): with the padded batch flattened channel by channel, the
  windows of tap k are the whole batch shifted by a constant offset, so one accumulated matmul per
  tap needs no copy; positions that wrap around a row are computed and thrown away. The taps run
  block by block of output positions, so each block stays in cache. With few channels, the taps
  of the last kernel dimension(s) are first copied into the channels, for fewer, deeper matmuls;
* im2col: copy every window into a column and do one (batched over groups) matmul.
"""
from __future__ import annotations

import itertools
import math

import torch

from convlab import shapes
from convlab.arguments import (add_batch_dim, check_bias, check_conv_weight, check_positive, check_tensor,
                               conv_padding, ntuple)
from convlab.functional.fold import windows, zero_padded

__all__ = ["conv1d", "conv2d", "conv3d", "corr2d"]

# Shifted matmul pays off once the im2col buffer would stop fitting in cache; each of its matmuls
# sums over at least _SHIFT_MIN_DEPTH values (channels times folded taps) to run efficiently.
_SHIFT_MIN_DEPTH = 32
_SHIFT_MIN_COLUMNS = 1 << 20
# Output positions per block and thread: all taps of a block run back to back while its input and
# output stay in cache, rather than each tap streaming the whole batch through memory.
_MATMUL_CHUNK = 4096


def _column_chunks(total: int, size: int) -> list[slice]:
    """Consecutive slices of at most ``size`` covering range(total)."""
    return [slice(start, min(total, start + size)) for start in range(0, total, size)]


def _dims_to_fold(channels_per_group: int, kernel_size: tuple[int, ...]) -> int:
    """How many trailing kernel dimensions the shifted matmul copies into its channels (see below)."""
    folded, depth = 0, channels_per_group
    while depth < _SHIFT_MIN_DEPTH and folded < len(kernel_size):
        folded += 1
        depth *= kernel_size[-folded]
    return folded


def _output_size(op, size, kernel_size, stride, padding, dilation) -> tuple[int, ...]:
    """``shapes.conv_output_shape`` with an error that says which call failed."""
    try:
        return shapes.conv_output_shape(size, kernel_size, stride, padding, dilation)
    except ValueError as error:
        raise ValueError(f"{op}: input of spatial size {tuple(size)} is smaller than the kernel: "
                         f"kernel_size={kernel_size}, dilation={dilation}, padding={padding} ({error})") from None


def _tap_offsets(kernel_size, dilation, strides) -> list[int]:
    """Flat offset of every kernel tap (row-major) in an image with the given element strides."""
    return [sum(k * d * s for k, d, s in zip(tap, dilation, strides))
            for tap in itertools.product(*(range(k) for k in kernel_size))]


def _channel_major_padded(input, padding, extra: int) -> torch.Tensor:
    """``input`` (N, C, *spatial) copied into a zero buffer (C, N, *padded) with ``extra`` zeros after it.

    Channel-major order puts every sample of one channel in one row, so a single matrix, not one
    per sample, holds a tap's windows for the whole batch.
    """
    n, c = input.shape[:2]
    padded_size = _padded_size(input, padding)
    numel = c * n * math.prod(padded_size)
    buffer = input.new_zeros(numel + extra)[:numel].view(c, n, *padded_size)  # (C, N, *padded)
    inner = tuple(slice(before, before + s) for s, (before, _) in zip(input.shape[2:], padding))
    buffer[(slice(None), slice(None)) + inner] = input.transpose(0, 1)
    return buffer


def _shifted_operands(input, kernel_size, padding, dilation, out_size, folded_dims: int = 0):
    """Stride 1: the windows of every tap, for the whole batch, as one strided (C, M) matrix.

    In a channel-major padded buffer flattened per channel, the windows of a tap are the buffer
    shifted by a constant offset. Column m is position m of the flattened (N, *padded) grid, up to
    the last output of the last sample; columns that are not outputs (past out_d in some dimension,
    reads that wrap into the next row or sample) are computed and dropped by ``_drop_wrapped``.
    Returns one view per tap, in row-major kernel order.

    With ``folded_dims`` > 0 the taps of the last ``folded_dims`` kernel dimensions are copied into
    the channel dimension first (a partial im2col), and the views are (C * folded taps, M), one per
    remaining tap: fewer, deeper matmuls when there are few channels.
    """
    n, c = input.shape[:2]
    dims = len(kernel_size)
    padded_size = _padded_size(input, padding)
    strides = [math.prod(padded_size[i + 1:]) for i in range(dims)]
    plane = math.prod(padded_size)
    lead = _tap_offsets(kernel_size[:dims - folded_dims], dilation, strides)
    trail = _tap_offsets(kernel_size[dims - folded_dims:], dilation[dims - folded_dims:],
                         strides[dims - folded_dims:])
    padded = _channel_major_padded(input, padding, extra=lead[-1] + trail[-1])  # (C, N, *padded)
    row = n * plane
    columns = (n - 1) * plane + out_size[0] * strides[0]  # through the last sample's last output row
    if folded_dims == 0:
        return [padded.as_strided((c, columns), (row, 1), offset) for offset in lead]  # (C, M)
    span = columns + lead[-1]  # what the remaining taps read of each folded copy
    folded = input.new_empty(c, len(trail), span)
    for f, offset in enumerate(trail):
        folded[:, f] = padded.as_strided((c, span), (row, 1), offset)
    depth = c * len(trail)
    return [folded.as_strided((depth, columns), (span, 1), offset) for offset in lead]  # (C*folded, M)


def _drop_wrapped(out, batch: int, padded_size, out_size):
    """(O, M) over the flattened (N, *padded) grid -> contiguous (N, O, *out_size)."""
    o = out.shape[0]
    plane = math.prod(padded_size)
    strides = [math.prod(padded_size[i + 1:]) for i in range(len(padded_size))]
    grid = out.as_strided((o, batch, *out_size), (out.stride(0), plane, *strides))  # (O, N, *out)
    return grid.transpose(0, 1).contiguous()  # (N, O, *out)


def _padded_size(input, padding):
    return [s + a + b for s, (a, b) in zip(input.shape[2:], padding)]


def _depthwise(input, weight, groups, stride, padding, dilation, out_size):
    """One input channel per group: a multiply-add per tap of (windows) * (that tap's weights).

    At stride 1 the windows come from ``_shifted_operands`` (one flat view per tap), otherwise
    from the strided window view.
    """
    n = input.shape[0]
    kernel_size = tuple(weight.shape[2:])
    dims = len(kernel_size)
    w = weight.reshape(groups, -1, math.prod(kernel_size))  # (G, O/G, taps)
    if all(s == 1 for s in stride) and n > 0:
        out = None
        for t, x_t in enumerate(_shifted_operands(input, kernel_size, padding, dilation, out_size)):
            x_t, w_t = x_t.unsqueeze(1), w[:, :, t].unsqueeze(2)  # (G, 1, M), (G, O/G, 1)
            out = x_t * w_t if out is None else out.addcmul_(x_t, w_t)  # (G, O/G, M)
        return _drop_wrapped(out.view(weight.shape[0], out.shape[-1]), n, _padded_size(input, padding), out_size)
    view = windows(zero_padded(input, padding), kernel_size, stride, dilation, out_size)  # (N, G, *k, *out)
    out = None
    for t, tap in enumerate(itertools.product(*(range(k) for k in kernel_size))):
        x_t = view[(slice(None), slice(None)) + tap].unsqueeze(2)  # (N, G, 1, *out)
        w_t = w[:, :, t].reshape(groups, -1, *([1] * dims))  # (G, O/G, 1...)
        out = x_t * w_t if out is None else out.addcmul_(x_t, w_t)  # (N, G, O/G, *out)
    return out.reshape(n, weight.shape[0], *out_size)  # (N, O, *out)


def _shifted_matmul(input, weight, groups, padding, dilation, out_size, folded_dims: int = 0):
    """Stride 1: out += W[tap] @ (padded batch shifted by the tap's offset), one matmul per tap."""
    n, c = input.shape[:2]
    dims = weight.dim() - 2
    kernel_size = tuple(weight.shape[2:])
    cg, og = c // groups, weight.shape[0] // groups
    folded = math.prod(kernel_size[dims - folded_dims:])
    depth = cg * folded
    w = weight.reshape(groups, og, cg, -1, folded).permute(3, 0, 1, 2, 4)  # (leading taps, G, O/G, C/G, folded)
    w = w.reshape(-1, groups, og, depth)  # (leading taps, G, O/G, C/G*folded)
    operands = _shifted_operands(input, kernel_size, padding, dilation, out_size, folded_dims)
    parts = []
    # Each thread takes its share of a block, so the block grows with the thread count.
    for chunk in _column_chunks(operands[0].shape[-1], _MATMUL_CHUNK * torch.get_num_threads()):
        part = None  # every tap's matmul for one block of columns, while they are in cache
        for t, x_t in enumerate(operands):
            if groups == 1:  # a plain matmul: (O, C*folded) @ (C*folded, chunk)
                x_t, w_t = x_t[:, chunk], w[t, 0]
                part = torch.mm(w_t, x_t) if part is None else part.addmm_(w_t, x_t)  # (O, chunk)
            else:
                x_t = x_t[:, chunk].view(groups, depth, -1)  # (G, C/G*folded, chunk)
                part = torch.bmm(w[t], x_t) if part is None else part.baddbmm_(w[t], x_t)  # (G, O/G, chunk)
        parts.append(part.view(groups * og, -1))
    out = torch.cat(parts, dim=-1)  # (O, M)
    return _drop_wrapped(out, n, _padded_size(input, padding), out_size)


def _im2col(padded, weight, groups, stride, dilation, out_size):
    """Copy every window into a column, then one matmul per group: (O/G, C/G*taps) @ (C/G*taps, L)."""
    n, c = padded.shape[:2]
    kernel_size = tuple(weight.shape[2:])
    cg, og = c // groups, weight.shape[0] // groups
    view = windows(padded, kernel_size, stride, dilation, out_size)  # (N, C, *k, *out)
    columns = view.reshape(n, groups, cg * math.prod(kernel_size), math.prod(out_size))  # (N, G, C/G*taps, L)
    w = weight.reshape(groups, og, cg * math.prod(kernel_size))  # (G, O/G, C/G*taps)
    return torch.matmul(w, columns).view(n, groups * og, *out_size)  # (N, O, *out)


def _convnd(input, weight, bias, stride, padding, dilation, groups, dims: int, op: str) -> torch.Tensor:
    """The convolution shared by conv1d/2d/3d, on (N, C, *spatial) or unbatched (C, *spatial) input."""
    input, unbatched = add_batch_dim(input, dims, op)
    out_channels = check_conv_weight(input, weight, groups, dims, op)
    check_bias(bias, input, out_channels, op)
    kernel_size = tuple(weight.shape[2:])
    stride = check_positive(ntuple(stride, dims, "stride", op), "stride", op)
    dilation = check_positive(ntuple(dilation, dims, "dilation", op), "dilation", op)
    pads = conv_padding(padding, kernel_size, stride, dilation, op)
    out_size = _output_size(op, input.shape[2:], kernel_size, stride, pads, dilation)
    n, c = input.shape[:2]
    cg = c // groups
    column_count = n * c * math.prod(kernel_size) * math.prod(out_size)
    folded_dims = _dims_to_fold(cg, kernel_size)
    if cg == 1 and c > 1:
        out = _depthwise(input, weight, groups, stride, pads, dilation, out_size)
    elif all(s == 1 for s in stride) and folded_dims < dims and column_count >= _SHIFT_MIN_COLUMNS and n > 0:
        out = _shifted_matmul(input, weight, groups, pads, dilation, out_size, folded_dims)
    else:
        out = _im2col(zero_padded(input, pads), weight, groups, stride, dilation, out_size)
    if bias is not None:
        out = out.add_(bias.view(out_channels, *([1] * dims)))  # out is fresh: add in place
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> torch.Tensor:
    """1D cross-correlation, as ``torch.nn.functional.conv1d``: (N, C_in, L) -> (N, C_out, L_out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> torch.Tensor:
    """2D cross-correlation, as ``torch.nn.functional.conv2d``: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> torch.Tensor:
    """3D cross-correlation, as ``torch.nn.functional.conv3d``: (N, C_in, D, H, W) -> (N, C_out, D', H', W')."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Single-channel 2D cross-correlation of X (H, W) with K (kh, kw): (H - kh + 1, W - kw + 1), lesson 01."""
    op = "corr2d"
    for name, value in (("X", X), ("K", K)):
        check_tensor(value, name, op)
        if value.dim() != 2:
            raise RuntimeError(f"{op}: expected {name} to be 2-D, got {value.dim()}-D {name} of shape "
                               f"{tuple(value.shape)}")
    return conv2d(X[None, None], K[None, None])[0, 0]  # (1, 1, H, W) -> (H', W')

"""Convolution (cross-correlation) in 1, 2 and 3 dimensions: ``conv1d/2d/3d`` and ``corr2d``.

One N-d implementation serves every dimension. It picks one of three ways to compute the same sum,
by what is fastest for the shape at hand:

* depthwise (one input channel per group): a multiply-add of a strided window view per kernel tap;
* shifted matmul (stride 1, many channels): with the padded image flattened, the window of tap k is
  the whole image shifted by a constant offset, so one accumulated matmul per tap needs no copy;
  positions that wrap around a row are computed and thrown away;
* im2col: copy every window into a column and do one (batched over groups) matmul.
"""
from __future__ import annotations

import math

import torch

from convlab import shapes
from convlab.arguments import (add_batch_dim, check_bias, check_conv_weight, check_positive, check_tensor,
                               conv_padding, ntuple)
from convlab.functional.fold import windows, zero_padded

__all__ = ["conv1d", "conv2d", "conv3d", "corr2d"]

# Shifted matmul pays off once the im2col buffer would stop fitting in cache and each per-tap
# matmul still has enough input channels to be efficient.
_SHIFT_MIN_CHANNELS = 16
_SHIFT_MIN_COLUMNS = 1 << 20


def _output_size(op, size, kernel_size, stride, padding, dilation) -> tuple[int, ...]:
    """``shapes.conv_output_shape`` with an error that says which call failed."""
    try:
        return shapes.conv_output_shape(size, kernel_size, stride, padding, dilation)
    except ValueError as error:
        raise ValueError(f"{op}: input of spatial size {tuple(size)} is smaller than the kernel: "
                         f"kernel_size={kernel_size}, dilation={dilation}, padding={padding} ({error})") from None


def _depthwise(padded, weight, groups, kernel_size, stride, dilation, out_size):
    """One input channel per group: sum over taps of (window view) * (that tap's weights)."""
    n = padded.shape[0]
    dims = len(kernel_size)
    view = windows(padded, kernel_size, stride, dilation, out_size)  # (N, G, *k, *out)
    view = view.unsqueeze(2)  # (N, G, 1, *k, *out)
    w = weight.reshape(groups, -1, math.prod(kernel_size))  # (G, O/G, taps)
    out = None
    for t in range(w.shape[-1]):
        tap = view[(slice(None),) * 3 + _unravel(t, kernel_size)]  # (N, G, 1, *out)
        w_t = w[:, :, t].reshape(groups, -1, *([1] * dims))  # (G, O/G, 1...)
        out = tap * w_t if out is None else out.addcmul_(tap, w_t)
    return out.reshape(n, weight.shape[0], *out_size)  # (N, O, *out)


def _unravel(index: int, size: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major multi-index of a flat ``index`` into ``size``."""
    coords = []
    for s in reversed(size):
        index, r = divmod(index, s)
        coords.append(r)
    return tuple(reversed(coords))


def _shifted_matmul(input, weight, groups, padding, dilation, out_size):
    """Stride 1: out += W[tap] @ (flattened padded image shifted by the tap's offset), per tap.

    Output is computed on the grid (out_0, padded_1, ..., padded_{n-1}) so every shifted operand is
    a plain strided matrix; the columns past out_1.. (reads that wrap into the next row) are dropped.
    """
    n, c = input.shape[:2]
    kernel_size = tuple(weight.shape[2:])
    padded_size = [s + a + b for s, (a, b) in zip(input.shape[2:], padding)]
    plane_strides = [math.prod(padded_size[i + 1:]) for i in range(len(padded_size))]
    plane = math.prod(padded_size)
    offsets = [sum(k * d * s for k, d, s in zip(_unravel(t, kernel_size), dilation, plane_strides))
               for t in range(math.prod(kernel_size))]
    padded = zero_padded(input, padding, extra=offsets[-1])  # (N, C, *padded) with room after
    cg, og = c // groups, weight.shape[0] // groups
    length = out_size[0] * plane_strides[0]  # positions on the (out_0, padded_1, ...) grid
    w = weight.reshape(groups, og, cg, -1)  # (G, O/G, C/G, taps)
    base = padded.storage_offset()
    out = None
    for t, offset in enumerate(offsets):
        x_t = padded.as_strided((n * groups, cg, length), (cg * plane, plane, 1), base + offset)  # (N*G, C/G, L)
        w_t = w[..., t].expand(n, groups, og, cg).reshape(n * groups, og, cg)  # (N*G, O/G, C/G)
        out = torch.bmm(w_t, x_t) if out is None else out.baddbmm_(w_t, x_t)
    out = out.view(n, groups * og, out_size[0], *padded_size[1:])  # (N, O, out_0, *padded[1:])
    keep = tuple(slice(0, s) for s in out_size[1:])
    return out[(slice(None), slice(None), slice(None)) + keep].contiguous()


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
    if cg == 1 and c > 1:
        out = _depthwise(zero_padded(input, pads), weight, groups, kernel_size, stride, dilation, out_size)
    elif (all(s == 1 for s in stride) and cg >= _SHIFT_MIN_CHANNELS and column_count >= _SHIFT_MIN_COLUMNS):
        out = _shifted_matmul(input, weight, groups, pads, dilation, out_size)
    else:
        out = _im2col(zero_padded(input, pads), weight, groups, stride, dilation, out_size)
    if bias is not None:
        out = out + bias.view(out_channels, *([1] * dims))
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

"""Convolution (cross-correlation) in 1, 2 and 3 dimensions: ``conv1d/2d/3d`` and ``corr2d``.

One N-d implementation serves every dimension, the im2col algorithm of lesson 07: pad the input,
view every window as a column, and multiply by the kernel in one (batched over groups) matmul.
Where a shape makes the column copy the cost, ``fast.py`` computes the same sum without it.
"""
from __future__ import annotations

import math

import torch

from convlab import shapes
from convlab.arguments import (
    add_batch_dim,
    check_bias,
    check_conv_weight,
    check_tensor,
    fitted_shape,
    positive,
)
from convlab.functional import fast
from convlab.functional.fold import windows, zero_padded

__all__ = ["conv1d", "conv2d", "conv3d", "corr2d"]


def _im2col(input, weight, groups, stride, padding, dilation, out_size):
    """Copy every window into a column, then one matmul per sample and group: (O/G, C/G*taps) @ (C/G*taps, L)."""
    n, c = input.shape[:2]
    kernel_size = tuple(weight.shape[2:])
    cg, og = c // groups, weight.shape[0] // groups
    depth = cg * math.prod(kernel_size)
    view = windows(zero_padded(input, padding), kernel_size, stride, dilation, out_size)  # (N, C, *k, *out)
    columns = view.reshape(n, groups, depth, math.prod(out_size))  # (N, G, C/G*taps, L): the copy
    w = weight.reshape(groups, og, depth)  # (G, O/G, C/G*taps)
    return torch.matmul(w, columns).view(n, groups * og, *out_size)  # (N, O, *out)


def _convnd(input, weight, bias, stride, padding, dilation, groups, dims: int, op: str) -> torch.Tensor:
    """The convolution shared by conv1d/2d/3d, on (N, C, *spatial) or unbatched (C, *spatial) input."""
    input, unbatched = add_batch_dim(input, dims, op)
    out_channels = check_conv_weight(input, weight, groups, dims, op)
    check_bias(bias, input, out_channels, op)
    kernel_size = tuple(weight.shape[2:])
    stride = positive(stride, dims, "stride", op)
    dilation = positive(dilation, dims, "dilation", op)
    pads = shapes.conv_padding(padding, kernel_size, stride, dilation, op)
    out_size = fitted_shape(op, shapes.conv_output_shape, input.shape[2:], kernel_size=kernel_size, stride=stride,
                            padding=pads, dilation=dilation)
    out = fast.convolution(input, weight, groups, stride, pads, dilation, out_size)
    if out is None:
        out = _im2col(input, weight, groups, stride, pads, dilation, out_size)
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

"""Transposed convolution in 1, 2 and 3 dimensions: ``conv_transpose1d/2d/3d``.

The adjoint (gradient) of a convolution: every input value scales the kernel and adds it into the
output at stride-spaced positions. Computed as one (broadcast) matmul that makes all scaled kernels
at once, (taps * C_out/G, C_in/G) @ (C_in/G, L_in) per sample and group, then one strided slice-add
per kernel tap (col2im) that places them; what lands in ``padding`` is dropped and
``output_padding`` extends the far side.
"""
from __future__ import annotations

import math

import torch

from convlab import shapes
from convlab.arguments import add_batch_dim, check_bias, check_conv_weight, fitted_shape, non_negative, positive
from convlab.functional.fold import scatter_windows

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, dims: int,
                      op: str) -> torch.Tensor:
    """The transposed convolution shared by conv_transpose1d/2d/3d."""
    input, unbatched = add_batch_dim(input, dims, op)
    out_channels = check_conv_weight(input, weight, groups, dims, op, transposed=True)
    check_bias(bias, input, out_channels, op)
    kernel_size = tuple(weight.shape[2:])
    stride = positive(stride, dims, "stride", op)
    dilation = positive(dilation, dims, "dilation", op)
    padding = non_negative(padding, dims, "padding", op)  # a string ('same') is not an int: rejected, named
    output_padding = non_negative(output_padding, dims, "output_padding", op)
    in_size = tuple(input.shape[2:])
    out_size = fitted_shape(op, shapes.conv_transpose_output_shape, in_size, kernel_size=kernel_size, stride=stride,
                            padding=padding, output_padding=output_padding, dilation=dilation)
    n, c = input.shape[:2]
    cg, og, taps = c // groups, out_channels // groups, math.prod(kernel_size)
    # The input as it lies, a matmul per sample and group (broadcast): no transposed copy of it.
    x = input.reshape(n, groups, cg, math.prod(in_size))  # (N, G, C_in/G, L_in)
    # Tap-major rows make each tap's block of the matmul result contiguous, which the scatter reads.
    w = weight.reshape(groups, cg, og, taps).permute(0, 3, 2, 1)  # (G, taps, C_out/G, C_in/G)
    w = w.reshape(groups, taps * og, cg)  # (G, taps*C_out/G, C_in/G)
    columns = torch.matmul(w, x)  # (N, G, taps*C_out/G, L_in)
    columns = columns.view(n, groups, *kernel_size, og, *in_size)  # (N, G, *k, C_out/G, *in)
    columns = columns.movedim(2 + dims, 2)  # (N, G, C_out/G, *k, *in)
    out = scatter_windows(columns, out_size, stride, dilation, padding)  # (N, G, C_out/G, *out)
    out = out.view(n, out_channels, *out_size)  # (N, C_out, *out)
    if bias is not None:
        out = out.add_(bias.view(out_channels, *([1] * dims)))  # out is fresh: add in place
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> torch.Tensor:
    """1D transposed convolution, as ``torch.nn.functional.conv_transpose1d``; weight (C_in, C_out/groups, k)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> torch.Tensor:
    """2D transposed convolution, as ``torch.nn.functional.conv_transpose2d``; weight (C_in, C_out/groups, kh, kw)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> torch.Tensor:
    """3D transposed convolution, as ``torch.nn.functional.conv_transpose3d``; weight (C_in, C_out/groups, *k)."""
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                             "conv_transpose3d")

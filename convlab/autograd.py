"""Backpropagation through conv2d written with the course's own kernels (lesson 10).

The three gradients of y = conv2d(x, w, b, stride, padding, dilation):
  grad_input  = conv_transpose2d(grad_output, w)          (each output spreads back over its window)
  grad_weight = correlation of x with grad_output          (stride and dilation swap roles)
  grad_bias   = grad_output summed over batch and space
`Conv2dFunction` wraps them in a `torch.autograd.Function` so autograd uses them instead of its own.
"""
import torch

from convlab import functional as F
from convlab.arguments import ntuple
from convlab.shapes import effective_kernel_size

__all__ = ["conv2d_backward", "Conv2dFunction"]


def conv2d_backward(input, weight, grad_output, stride=1, padding=0, dilation=1):
    """(grad_input, grad_weight, grad_bias) of conv2d(input, weight, bias, stride, padding, dilation), groups=1."""
    if input.dim() != 4 or weight.dim() != 4 or grad_output.dim() != 4:
        raise ValueError("input, weight and grad_output must be 4D (NCHW), got shapes "
                         f"{tuple(input.shape)}, {tuple(weight.shape)}, {tuple(grad_output.shape)}")
    if weight.shape[1] != input.shape[1]:
        raise ValueError(f"weight of shape {tuple(weight.shape)} needs {weight.shape[1]} input channels, "
                         f"input has shape {tuple(input.shape)} (groups are not supported here)")
    s, p, d = ntuple(stride, 2, "stride"), ntuple(padding, 2, "padding"), ntuple(dilation, 2, "dilation")
    kH, kW = weight.shape[2:]
    H, W = input.shape[2:]
    # Rows/columns that the forward pass never reached (when stride does not divide evenly)
    # come back as output_padding, so grad_input gets the input's exact size.
    output_padding = tuple((n + 2 * pp - effective_kernel_size(k, dd)) % ss
                           for n, pp, dd, k, ss in zip((H, W), p, d, (kH, kW), s))
    grad_input = F.conv_transpose2d(grad_output, weight, None, s, p, output_padding, 1, d)
    # grad_weight[o, c, i, j] = sum_{n, y, x} grad_output[n, o, y, x] * x_pad[n, c, y*s + i*d, x*s + j*d]:
    # a correlation over the batch, with batch as the channel axis and stride/dilation swapped.
    gw = F.conv2d(input.transpose(0, 1),            # (C_in, N, H, W)
                  grad_output.transpose(0, 1),      # (C_out, N, H', W')
                  None, d, p, s)                    # (C_in, C_out, >=kH, >=kW)
    grad_weight = gw[:, :, :kH, :kW].transpose(0, 1).contiguous()  # (C_out, C_in, kH, kW)
    grad_bias = grad_output.sum(dim=(0, 2, 3))  # (C_out,)
    return grad_input, grad_weight, grad_bias


class Conv2dFunction(torch.autograd.Function):
    """conv2d whose backward pass is `conv2d_backward`: apply(input, weight, bias, stride, padding)."""

    @staticmethod
    def forward(ctx, input, weight, bias=None, stride=1, padding=0):
        ctx.save_for_backward(input, weight)
        ctx.has_bias = bias is not None
        ctx.stride, ctx.padding = stride, padding
        return F.conv2d(input, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input, grad_weight, grad_bias = conv2d_backward(
            input, weight, grad_output, ctx.stride, ctx.padding)
        return grad_input, grad_weight, grad_bias if ctx.has_bias else None, None, None

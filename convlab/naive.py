"""convlab.naive: the 2D ops of convlab.functional as plain loops, one output value at a time.

Read these next to the lessons: `corr2d` (lesson 01), `conv2d` (lesson 03), `max_pool2d` and
`avg_pool2d` (lesson 06), `conv_transpose2d` (lesson 09). Same signatures and results as
torch.nn.functional; slow by design, since every value is a Python-level multiply and sum.
"""
import torch

from convlab import arguments, shapes
from convlab.functional.padding import pad
from convlab.functional.pooling import batched_pool_input, checked_pool_output_shape, pool_arguments

__all__ = ["corr2d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]


def corr2d(X, K):
    """Cross-correlation of a 2D X (H, W) with a 2D K (kh, kw): no padding, stride 1."""
    for name, value in (("X", X), ("K", K)):
        arguments.check_tensor(value, name, "corr2d")
        if value.dim() != 2:
            raise RuntimeError(f"corr2d: expected {name} to be 2-D, got {name} of shape "
                               f"{tuple(value.shape)}")
    h, w = K.shape
    if X.shape[0] < h or X.shape[1] < w:
        raise ValueError(f"corr2d: X of shape {tuple(X.shape)} is smaller than K of shape "
                         f"{tuple(K.shape)}")
    Y = X.new_zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()  # the window under the kernel, times it
    return Y


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2D cross-correlation of (N, C_in, H, W) or (C_in, H, W) input with (C_out, C_in/groups, kH, kW)."""
    op = "conv2d"
    x, unbatched = arguments.add_batch_dim(input, 2, op)
    out_channels = arguments.check_conv_weight(x, weight, groups, 2, op)
    arguments.check_bias(bias, x, out_channels, op)
    kh, kw = weight.shape[2:]
    sh, sw = arguments.positive(stride, 2, "stride", op)
    dh, dw = arguments.positive(dilation, 2, "dilation", op)
    (top, bottom), (left, right) = shapes.conv_padding(padding, (kh, kw), (sh, sw), (dh, dw), op)
    h_out, w_out = arguments.fitted_shape(op, shapes.conv_output_shape, x.shape[2:], kernel_size=(kh, kw),
                                          stride=(sh, sw), padding=((top, bottom), (left, right)),
                                          dilation=(dh, dw))
    span_h, span_w = shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw)  # a window's extent
    x = pad(x, (left, right, top, bottom))  # zeros around each image
    in_per_group = weight.shape[1]
    out_per_group = out_channels // groups
    out = x.new_zeros(x.shape[0], out_channels, h_out, w_out)
    for n in range(x.shape[0]):
        for c_out in range(out_channels):
            group = c_out // out_per_group  # which input channels this output channel sees
            channels = x[n, group * in_per_group:(group + 1) * in_per_group]  # (C_in/groups, Hp, Wp)
            for i in range(h_out):
                for j in range(w_out):
                    window = channels[:, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw]  # (C_in/groups, kH, kW)
                    value = (window * weight[c_out]).sum()
                    out[n, c_out, i, j] = value if bias is None else value + bias[c_out]
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed convolution of (N, C_in, H, W) or (C_in, H, W) input with (C_in, C_out/groups, kH, kW).

    Each input value scatters a scaled copy of its kernel into the output, `stride` apart
    (lesson 09's first view). The result is then cropped by `padding` on each side; the far
    side keeps `output_padding` extra rows and columns.
    """
    op = "conv_transpose2d"
    x, unbatched = arguments.add_batch_dim(input, 2, op)
    out_channels = arguments.check_conv_weight(x, weight, groups, 2, op, transposed=True)
    arguments.check_bias(bias, x, out_channels, op)
    kh, kw = weight.shape[2:]
    sh, sw = arguments.positive(stride, 2, "stride", op)
    dh, dw = arguments.positive(dilation, 2, "dilation", op)
    ph, pw = arguments.non_negative(padding, 2, "padding", op)
    oph, opw = arguments.non_negative(output_padding, 2, "output_padding", op)
    h_out, w_out = arguments.fitted_shape(op, shapes.conv_transpose_output_shape, x.shape[2:], kernel_size=(kh, kw),
                                          stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw),
                                          dilation=(dh, dw))
    span_h, span_w = shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw)  # a kernel's extent
    in_per_group = x.shape[1] // groups
    out_per_group = out_channels // groups
    full = x.new_zeros(x.shape[0], out_channels, h_out + 2 * ph, w_out + 2 * pw)  # before cropping
    for n in range(x.shape[0]):
        for c_in in range(x.shape[1]):
            group = c_in // in_per_group  # which output channels this input channel feeds
            outs = slice(group * out_per_group, (group + 1) * out_per_group)
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    rows = slice(i * sh, i * sh + span_h, dh)
                    cols = slice(j * sw, j * sw + span_w, dw)
                    full[n, outs, rows, cols] += x[n, c_in, i, j] * weight[c_in]  # (C_out/groups, kH, kW)
    out = full[:, :, ph:ph + h_out, pw:pw + w_out]
    if bias is not None:
        out = out + bias.view(-1, 1, 1)  # (C_out, 1, 1): one bias per output channel
    return out.squeeze(0) if unbatched else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max of each window of (N, C, H, W) or (C, H, W) input; indices point into H*W.

    The scan follows torch's kernel: real positions only (padding never wins), a value takes
    over when it is larger or NaN, so ties keep the first position and NaN the last one.
    """
    op = "max_pool2d"
    x, unbatched = batched_pool_input(input, 2, op)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = pool_arguments(op, 2, kernel_size, stride, padding,
                                                            dilation)
    h_out, w_out = checked_pool_output_shape(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode, op)
    height, width = x.shape[2:]
    lowest = float("-inf") if x.dtype.is_floating_point else torch.iinfo(x.dtype).min
    out = x.new_zeros(x.shape[0], x.shape[1], h_out, w_out)
    indices = torch.zeros(out.shape, dtype=torch.long, device=x.device)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * sh - ph, j * sw - pw  # may lie in the padding
                    rows = range(top, top + dh * kh, dh)
                    cols = range(left, left + dw * kw, dw)
                    # Before any value is seen: -inf at the first tap that is not in the padding.
                    best, best_r, best_c = lowest, top, left
                    while best_r < 0:
                        best_r += dh
                    while best_c < 0:
                        best_c += dw
                    for r in rows:
                        for q in cols:
                            if not (0 <= r < height and 0 <= q < width):
                                continue  # padding never wins
                            value = x[n, c, r, q]
                            if value > best or value.isnan():
                                best, best_r, best_c = value, r, q
                    inside = best_r < height and best_c < width  # false if no tap is real
                    out[n, c, i, j] = x[n, c, best_r, best_c] if inside else best
                    indices[n, c, i, j] = best_r * width + best_c
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window of (N, C, H, W) or (C, H, W) input.

    The divisor is the window's size clipped to the padded input (`count_include_pad`), or the
    number of real values in it, or `divisor_override`.
    """
    op = "avg_pool2d"
    x, unbatched = batched_pool_input(input, 2, op, average=True)
    (kh, kw), (sh, sw), (ph, pw), _ = pool_arguments(op, 2, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must not be zero, got divisor_override=0")
    h_out, w_out = checked_pool_output_shape(x, (kh, kw), (sh, sw), (ph, pw), (1, 1), ceil_mode, op)
    height, width = x.shape[2:]
    out = x.new_zeros(x.shape[0], x.shape[1], h_out, w_out)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * sh - ph, j * sw - pw
                    bottom, right = min(top + kh, height + ph), min(left + kw, width + pw)
                    padded_size = (bottom - top) * (right - left)  # ceil_mode may cut a window
                    top, left = max(top, 0), max(left, 0)
                    bottom, right = min(bottom, height), min(right, width)
                    window = x[n, c, top:bottom, left:right]  # the real values only
                    if divisor_override is not None:
                        divisor = divisor_override
                    elif count_include_pad:
                        divisor = padded_size
                    else:
                        divisor = window.numel()
                    if x.dtype.is_floating_point:
                        out[n, c, i, j] = window.sum() / divisor
                    else:
                        out[n, c, i, j] = window.sum().div(divisor, rounding_mode="trunc")
    return out.squeeze(0) if unbatched else out


def scatter_add(X, K, stride=1):
    """2D transposed convolution by its definition, for lesson 09's figure: add X[i, j] * K at
    (i*stride, j*stride); returns the sum and every step. Not exported: no exercise may use it."""
    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    (h, w), (kh, kw) = X.shape, K.shape
    out = torch.zeros((h - 1) * stride + kh, (w - 1) * stride + kw, dtype=torch.float64)
    pieces = []
    for i in range(h):
        for j in range(w):
            piece = torch.zeros_like(out)
            piece[i * stride:i * stride + kh, j * stride:j * stride + kw] = X[i, j] * K
            pieces.append(((i, j), piece))
            out += piece
    return out, pieces

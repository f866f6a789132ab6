"""Max and average pooling (1D and 2D), twins of torch.nn.functional's, from strided slices (lesson 06).

Tap j of every window along one dimension is a single strided slice of the (padded) input, so
reducing the windows takes k elementwise operations on whole slices: adds for average pooling, a
running max for max pooling. A 2D window is reduced along W first, then along H; a 1D pool is a
2D pool over a height-1 image. Max pooling follows torch's kernel: the first maximum in row-major
order wins a tie, the last NaN wins over numbers, and the gradient goes to that one input.
"""
import operator

import torch

from convlab import arguments, shapes
from convlab.functional.padding import pad

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L) or (C, L) input; indices point into L."""
    op = "max_pool1d"
    x, unbatched = batched_pool_input(input, 1, op)
    k, s, p, d = pool_arguments(op, 1, kernel_size, stride, padding, dilation)
    out_size = checked_pool_output_shape(x, k, s, p, d, ceil_mode, op)
    out = _max_pool(x.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + out_size,
                    return_indices)  # (N, C, 1, L) in, (N, C, 1, L_out) out
    out = tuple(None if t is None else t.squeeze(-2) for t in out)
    return _unbatch(out, unbatched, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W) or (C, H, W) input; indices point into H*W."""
    op = "max_pool2d"
    x, unbatched = batched_pool_input(input, 2, op)
    k, s, p, d = pool_arguments(op, 2, kernel_size, stride, padding, dilation)
    out_size = checked_pool_output_shape(x, k, s, p, d, ceil_mode, op)
    out = _max_pool(x, k, s, p, d, out_size, return_indices)
    return _unbatch(out, unbatched, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L) or (C, L) input."""
    op = "avg_pool1d"
    x, unbatched = batched_pool_input(input, 1, op, average=True)
    k, s, p, d = pool_arguments(op, 1, kernel_size, stride, padding, 1)
    out_size = checked_pool_output_shape(x, k, s, p, d, ceil_mode, op)
    out = _avg_pool(x.unsqueeze(-2), (1,) + k, (1,) + s, (0,) + p, (1,) + out_size,
                    count_include_pad, None).squeeze(-2)  # (N, C, 1, L) -> (N, C, L_out)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) or (C, H, W) input."""
    op = "avg_pool2d"
    x, unbatched = batched_pool_input(input, 2, op, average=True)
    k, s, p, d = pool_arguments(op, 2, kernel_size, stride, padding, 1)
    out_size = checked_pool_output_shape(x, k, s, p, d, ceil_mode, op)
    if divisor_override is not None:
        try:
            divisor_override = operator.index(divisor_override)
        except TypeError:
            raise TypeError(f"{op}: divisor_override must be an int or None, "
                            f"got divisor_override={divisor_override!r}") from None
        if divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must not be zero, got divisor_override=0")
    out = _avg_pool(x, k, s, p, out_size, count_include_pad, divisor_override)
    return out.squeeze(0) if unbatched else out


def batched_pool_input(input, spatial_dims, op, average=False):
    """(N, C, *spatial) view of `input`; torch allows an empty batch but no other empty dim.

    Max pooling takes any real dtype; averaging takes floating point and int64, as torch.
    """
    x, unbatched = arguments.add_batch_dim(input, spatial_dims, op)
    if 0 in x.shape[1:]:
        raise RuntimeError(f"{op}: expected input with non-zero sizes in every dimension but the "
                           f"batch one, got input of shape {tuple(input.shape)}")
    supported = (x.dtype.is_floating_point or x.dtype == torch.int64) if average else \
        not (x.dtype == torch.bool or x.dtype.is_complex)
    if not supported:
        raise RuntimeError(f"{op}: input dtype {x.dtype} is not supported")
    return x, unbatched


def _unbatch(out, unbatched, return_indices):
    """Drop the batch dim added for unbatched input; return the values alone unless asked for indices."""
    if unbatched:
        out = tuple(None if t is None else t.squeeze(0) for t in out)
    return out if return_indices else out[0]


def pool_arguments(op, n, kernel_size, stride, padding, dilation):
    """kernel_size, stride, padding, dilation as n-tuples, checked as torch checks them."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel_size  # torch: an omitted stride is the kernel size
    k, s, p, d = arguments.window_args(op, n, kernel_size, stride, padding, dilation)
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding must be at most half of kernel_size, got padding={p} "
                         f"and kernel_size={k}")
    return k, s, p, d


def checked_pool_output_shape(x, k, s, p, d, ceil_mode, op):
    """Output's spatial size from convlab.shapes, the error naming the op, the input's size and every argument."""
    return arguments.fitted_shape(op, shapes.pool_output_shape, x.shape[-len(k):], kernel_size=k, stride=s,
                                  padding=p, dilation=d, ceil_mode=ceil_mode)


def _pad_to_windows(x, k, s, p, d, out_size, value):
    """Pad (or crop) H and W so that exactly the windows of the output fit, filling with `value`.

    The left/top side gets `padding`; the right/bottom side whatever the last window needs,
    which is more than `padding` in ceil_mode and may be negative when trailing input is unused.
    """
    needed = [(o - 1) * si + shapes.effective_kernel_size(ki, di) for o, si, di, ki in zip(out_size, s, d, k)]
    after = [need - size - pi for need, size, pi in zip(needed, x.shape[-2:], p)]
    if p == (0, 0) and after == [0, 0]:
        return x
    return pad(x, (p[1], after[1], p[0], after[0]), value=value)


def _taps(x, dim, k, s, d, out):
    """The k strided slices of x along `dim` that hold tap 0, 1, ... of every window."""
    index = [slice(None)] * x.dim()
    for j in range(k):
        index[dim] = slice(j * d, j * d + (out - 1) * s + 1, s)
        yield x[tuple(index)]  # x's shape with `out` along dim


def _tap_sum(taps):
    """Window sums as k shifted adds: faster than reducing a short, strided unfold dim."""
    taps = iter(taps)
    total = next(taps)
    for tap in taps:
        total = total + tap
    return total


def _max_pool(x, k, s, p, d, out_size, return_indices):
    """(values, indices) of 2D max pooling of batched x; indices is None unless needed.

    Values come from a running `torch.maximum` over the window's taps. Torch sends a max's gradient
    to the one input its index names (not split between ties), so when a gradient is wanted the
    values are gathered from the input at the indices instead.
    """
    fill = float("-inf") if x.dtype.is_floating_point else torch.iinfo(x.dtype).min
    xp = _pad_to_windows(x, k, s, p, d, out_size, fill)  # (N, C, Hp, Wp)
    needs_grad = x.requires_grad and torch.is_grad_enabled()
    if not (return_indices or needs_grad):
        row_max = _tap_max(_taps(xp, 3, k[1], s[1], d[1], out_size[1]))  # (N, C, Hp, W_out)
        return _tap_max(_taps(row_max, 2, k[0], s[0], d[0], out_size[0])), None
    with torch.no_grad():
        values, indices = _max_indices(x, xp, k, s, p, d, out_size, fill)
    if needs_grad and p == (0, 0):
        values = x.flatten(-2).gather(-1, indices.flatten(-2)).view(indices.shape)
    elif needs_grad:
        # With padding and dilation a window may hold no real tap; its index is then past the end.
        plane = x.shape[-2] * x.shape[-1]
        gathered = x.flatten(-2).gather(-1, indices.clamp(max=plane - 1).flatten(-2))
        values = torch.where(indices < plane, gathered.view(indices.shape), values)
    return values, indices


def _tap_max(taps):
    """Elementwise max over the taps of each window (NaN wins, as in torch)."""
    taps = iter(taps)
    best = next(taps)
    for tap in taps:
        best = torch.maximum(best, tap)
    return best


def _max_indices(x, xp, k, s, p, d, out_size, fill):
    """Max and its flat H*W index in x: first max in row-major order, or the last NaN, as torch.

    The loop is torch's kernel loop run on whole slices: a tap takes over when it is larger
    than the running max or NaN. Tap labels only grow, so `maximum(label, take * label_j)` keeps
    the last tap that took over. Rows are scanned first; a row's winner is labelled
    i * span + its column offset, which also only grows with the row i.
    """
    span = shapes.effective_kernel_size(k[1], d[1])  # columns one window covers
    # Labels stay within one padded plane; int32 halves the memory traffic of int64.
    label_dtype = torch.int32 if xp.shape[-2] * xp.shape[-1] < 2**31 else torch.int64
    col_labels = (torch.tensor(j * d[1], dtype=label_dtype, device=x.device) for j in range(k[1]))
    row_max, col = _tracked_max(_taps(xp, 3, k[1], s[1], d[1], out_size[1]),
                                col_labels)  # (N, C, Hp, W_out): column offset of each row's max
    col_taps = _taps(col, 2, k[0], s[0], d[0], out_size[0])
    values, local = _tracked_max(_taps(row_max, 2, k[0], s[0], d[0], out_size[0]),
                                 (tap + i * span for i, tap in enumerate(col_taps)))
    row, col = local.div(span, rounding_mode="floor"), local.remainder(span)  # (N, C, H_out, W_out)
    h0, w0, first_h, first_w = _window_starts(x, out_size, s, p, d)
    base = h0[:, None] * x.shape[-1] + w0[None, :]  # (H_out, W_out): window's top-left in x
    indices = (row * (d[0] * x.shape[-1]) + col).long() + base
    if p != (0, 0):
        # A window whose real values are all -inf reports its first real position, as torch does;
        # only a window starting in the left/top padding can hold one whose tap 0 is not real.
        first = first_h[:, None] * x.shape[-1] + first_w[None, :]
        empty = values == fill
        indices = indices + empty * (first - indices)
    return values, indices


def _tracked_max(taps, labels):
    """Running max over taps and the label of the tap holding it (labels must only grow)."""
    taps, labels = iter(taps), iter(labels)
    best = next(taps)
    label = next(labels).expand(best.shape)
    for tap, tap_label in zip(taps, labels):
        take = tap > best
        if tap.dtype.is_floating_point:
            take = take | tap.isnan()
        best = torch.maximum(best, tap)
        label = torch.maximum(label, take * tap_label)
    return best, label


def _window_starts(x, out_size, s, p, d):
    """Per output row/col: where its window starts in the input, and its first real tap."""
    starts = []
    for o, si, pi, di in zip(out_size, s, p, d):
        start = torch.arange(o, device=x.device) * si - pi  # may be < 0: in the padding
        first = start + (-start).clamp(min=0).add(di - 1).div(di, rounding_mode="floor") * di
        starts.append((start, first))
    (h0, first_h), (w0, first_w) = starts
    return h0, w0, first_h, first_w


def _avg_pool(x, k, s, p, out_size, count_include_pad, divisor_override):
    """2D average pooling of batched x: window sums over a divisor that depends on the position."""
    d = (1, 1)
    xp = _pad_to_windows(x, k, s, p, d, out_size, 0)  # (N, C, Hp, Wp)
    if x.dtype in (torch.float16, torch.bfloat16):
        xp = xp.float()  # accumulate in float32, as torch does, and round once at the end
    row_sums = _tap_sum(_taps(xp, 3, k[1], s[1], 1, out_size[1]))  # (N, C, Hp, W_out)
    sums = _tap_sum(_taps(row_sums, 2, k[0], s[0], 1, out_size[0]))  # (N, C, H_out, W_out)
    if divisor_override is not None:
        divisor = divisor_override
    else:
        h, w = (_window_lengths(o, size, ki, si, pi, count_include_pad)
                for o, size, ki, si, pi in zip(out_size, x.shape[-2:], k, s, p))
        if len(set(h)) == 1 and len(set(w)) == 1:
            divisor = h[0] * w[0]  # every window the same size: one number
        else:
            divisor = torch.tensor(h, device=x.device)[:, None] * torch.tensor(w, device=x.device)
    if x.dtype.is_floating_point:
        return (sums / divisor).to(x.dtype)  # (N, C, H_out, W_out) / (H_out, W_out) or a number
    return sums.div(divisor, rounding_mode="trunc")  # torch's integer division


def _window_lengths(out_size, size, k, s, p, count_include_pad):
    """Length of each window along one dim: clipped to input+padding, or to the input alone."""
    lengths = []
    for o in range(out_size):
        start = o * s - p
        end = min(start + k, size + p)  # a ceil_mode window may hang past the padding
        if not count_include_pad:
            start, end = max(start, 0), min(end, size)
        lengths.append(end - start)
    return lengths

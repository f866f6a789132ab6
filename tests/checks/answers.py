"""Answers to every exercise for the check tests: right ones, mistaken ones naming the mistake they make,
and ones that reach a banned reference. ``RIGHT``, ``MISTAKES`` and ``BANNED`` hold them by exercise name,
so tests/checks/test_exercises.py covers each registered exercise; a new one needs its answers here.

Lessons 01-06 are answered from general tensor operations, lessons 07-11 from the course's own kernels
(their checks are ``lifted``: the ban on those kernels taken off).
"""
import copy
import math

import torch
from torch import nn

import convlab.functional as CF
from convlab import functional, naive, shapes
from convlab.autograd import Conv2dFunction, conv2d_backward
from convlab.checks.lesson11 import traced_shapes
from convlab.matrices import conv_matrix, conv_transpose_via_matrix
from convlab.models import LeNet, lenet_layers


def lifted(check):
    """The check with its ban on the course's references lifted, to test answers built on them."""
    check = copy.copy(check)
    check.references = ()
    return check


# -- lessons 01-06: right answers from general tensor operations -----------------------------------

def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _zero_pad(x, ph, pw, fill=0.0, extra_h=0, extra_w=0):
    """x (..., H, W) with ph/pw fill on each side and extra fill at the bottom/right."""
    h, w = x.shape[-2:]
    out = torch.full((*x.shape[:-2], h + 2 * ph + extra_h, w + 2 * pw + extra_w), fill, dtype=x.dtype, device=x.device)
    out[..., ph:ph + h, pw:pw + w] = x
    return out


def _windows(x, kh, kw, stride, dilation):
    """(..., H, W) -> (..., H', W', kh, kw) views of every window."""
    (sh, sw), (dh, dw) = stride, dilation
    win = x.unfold(-2, dh * (kh - 1) + 1, sh).unfold(-2, dw * (kw - 1) + 1, sw)  # (..., H', W', ekh, ekw)
    return win[..., ::dh, ::dw]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    ph, pw = _pair(padding)
    x = _zero_pad(input, ph, pw)
    win = _windows(x, weight.shape[-2], weight.shape[-1], _pair(stride), _pair(dilation))  # (N, C, H', W', kh, kw)
    out = torch.einsum("nchwij,ocij->nohw", win, weight)
    return out if bias is None else out + bias[None, :, None, None]


def corr2d(X, K, stride=1, padding=0):
    return conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]


def pad(input, pad, mode="constant", value=None):
    left, right, top, bottom = (tuple(pad) + (0, 0))[:4]
    h, w = input.shape[-2:]
    if mode == "constant":
        return _zero_pad(input[..., :, :], top, left, 0.0 if value is None else value,
                         bottom - top, right - left)

    def index(n, before, after):
        i = torch.arange(-before, n + after, device=input.device)
        if mode == "reflect":
            period = 2 * (n - 1)
            i = i.remainder(period) if period else i * 0
            return torch.where(i >= n, period - i, i)
        if mode == "replicate":
            return i.clamp(0, n - 1)
        return i.remainder(n)  # circular

    rows, cols = index(h, top, bottom), index(w, left, right)
    return input.index_select(-2, rows).index_select(-1, cols)


def conv_output_size(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1


def corr2d_multi_in(X, K):
    return conv2d(X[None], K[None])[0, 0]


def corr2d_multi_in_out(X, K):
    return conv2d(X[None], K)[0]


def count_parameters(in_channels, out_channels, kernel_size, bias=True):
    kh, kw = _pair(kernel_size)
    return in_channels * out_channels * kh * kw + (out_channels if bias else 0)


def conv1x1_as_matmul(input, weight, bias=None):
    n, c, h, w = input.shape
    out = weight[:, :, 0, 0] @ input.reshape(n, c, h * w)  # (C_out, C_in) @ (N, C_in, H*W) -> (N, C_out, H*W)
    out = out.reshape(n, -1, h, w)
    return out if bias is None else out + bias[None, :, None, None]


def receptive_field(kernel_sizes, strides=None, dilations=None):
    strides = strides or [1] * len(kernel_sizes)
    dilations = dilations or [1] * len(kernel_sizes)
    field, jump = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += d * (k - 1) * jump
        jump *= s
    return field


def _pool_size(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(kernel_size if stride is None else stride)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    h, w = input.shape[-2:]
    oh, ow = _pool_size(h, kh, sh, ph, dh, ceil_mode), _pool_size(w, kw, sw, pw, dw, ceil_mode)
    extra_h = max(0, (oh - 1) * sh + dh * (kh - 1) + 1 - (h + 2 * ph))
    extra_w = max(0, (ow - 1) * sw + dw * (kw - 1) + 1 - (w + 2 * pw))
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), (extra_h, extra_w)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    (kh, kw), s, (ph, pw), d, (oh, ow), (eh, ew) = _pool_geometry(input, kernel_size, stride, padding, dilation,
                                                                  ceil_mode)
    h, w = input.shape[-2:]
    x = _zero_pad(input, ph, pw, float("-inf"), eh, ew)
    positions = torch.arange(h * w, device=input.device).reshape(h, w)
    positions = _zero_pad(positions, ph, pw, -1, eh, ew)
    win = _windows(x, kh, kw, s, d)[..., :oh, :ow, :, :].flatten(-2)  # (N, C, H', W', kh*kw)
    pos = _windows(positions, kh, kw, s, d)[:oh, :ow].flatten(-2)  # (H', W', kh*kw)
    values, arg = win.max(dim=-1)
    if not return_indices:
        return values
    indices = torch.gather(pos.expand(*win.shape), -1, arg[..., None])[..., 0]
    return values, indices


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    (kh, kw), s, (ph, pw), d, (oh, ow), (eh, ew) = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode)
    h, w = input.shape[-2:]
    sums = _windows(_zero_pad(input, ph, pw, 0.0, eh, ew), kh, kw, s, d)[..., :oh, :ow, :, :].sum((-2, -1))
    if divisor_override:
        return sums / divisor_override
    inside = torch.ones(h, w, dtype=input.dtype, device=input.device)
    if count_include_pad:  # the padded area counts, the overhang beyond it does not
        counted = _zero_pad(torch.ones(h + 2 * ph, w + 2 * pw, dtype=input.dtype, device=input.device), 0, 0, 0.0,
                            eh, ew)
    else:
        counted = _zero_pad(inside, ph, pw, 0.0, eh, ew)
    divisor = _windows(counted, kh, kw, s, d)[:oh, :ow].sum((-2, -1))
    return sums / divisor


# -- lessons 01-06: mistaken answers ---------------------------------------------------------------

def _flip(K):
    return K.flip(-2, -1)


def _one_sided_corr2d(X, K, stride=1, padding=0):
    ph, pw = _pair(padding)
    return corr2d(_zero_pad(X, 0, 0, 0.0, ph, pw), K, stride=stride)


def _pad_reflect_repeating_the_edge(input, p, mode="constant", value=None):
    """'reflect' done as numpy's 'symmetric': the mirror repeats the edge pixel."""
    if mode != "reflect":
        return pad(input, p, mode, value)
    left, right, top, bottom = (tuple(p) + (0, 0))[:4]

    def index(n, before, after):
        i = torch.arange(-before, n + after, device=input.device)
        return torch.where(i < 0, -i - 1, torch.where(i >= n, 2 * n - 1 - i, i))

    h, w = input.shape[-2:]
    return input.index_select(-2, index(h, top, bottom)).index_select(-1, index(w, left, right))


def _max_pool_zero_padded(input, kernel_size, stride=None, padding=0, **kw):
    ph, pw = _pair(padding)
    return max_pool2d(_zero_pad(input, ph, pw), kernel_size, stride=kernel_size if stride is None else stride, **kw)


# -- lessons 07-11: right answers from the course's reference kernels ---------------------------------

def conv2d_im2col(input, weight, bias=None, stride=1, padding=0):
    return CF.conv2d(input, weight, bias, stride, padding)


def grouped_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return CF.conv2d(input, weight, bias, stride, padding, dilation, groups)


def depthwise_separable_conv(input, depthwise_weight, pointwise_weight, stride=1, padding=0):
    return CF.conv2d(CF.conv2d(input, depthwise_weight, None, stride, padding, 1, input.shape[1]), pointwise_weight)


def separable_kernel(kernel):
    U, S, Vh = torch.linalg.svd(kernel)
    if len(S) > 1 and S[1] > 1e3 * torch.finfo(kernel.dtype).eps * S[0]:
        raise ValueError(f"kernel has rank > 1: singular values {S.tolist()}")
    return U[:, :1] * S[0].sqrt(), Vh[:1] * S[0].sqrt()


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    return CF.conv_transpose2d(input, weight, bias, stride, padding, output_padding)


def shape_trace(layers, input_shape):
    shape, trace = tuple(input_shape), []
    for layer in layers:
        if isinstance(layer, nn.Conv2d):
            shape = (layer.out_channels, *shapes.conv_output_shape(shape[1:], layer.kernel_size, layer.stride,
                                                                   layer.padding, layer.dilation))
        elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            shape = (shape[0], *shapes.pool_output_shape(shape[1:], layer.kernel_size, layer.stride, layer.padding,
                                                         getattr(layer, "dilation", 1), layer.ceil_mode))
        elif isinstance(layer, nn.Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, nn.Linear):
            shape = (layer.out_features,)
        trace.append(shape)
    return trace




# -- lessons 07-11: mistaken answers ---------------------------------------------------------------

def unfold_channels_last(input, kernel_size, dilation=1, padding=0, stride=1):
    cols = CF.unfold(input, kernel_size, dilation, padding, stride)
    c = input.shape[-3]
    k = cols.shape[-2] // c
    return cols.reshape(*cols.shape[:-2], c, k, cols.shape[-1]).transpose(-3, -2).reshape(cols.shape)


def conv_matrix_flipped(kernel, input_size):
    return conv_matrix(kernel.flip(0, 1), input_size)


def groups_ignored(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return CF.conv2d(input, weight.repeat(1, groups, 1, 1), bias, stride, padding, dilation)


def never_raises(kernel):
    U, S, Vh = torch.linalg.svd(kernel)
    return U[:, :1] * S[0].sqrt(), Vh[:1] * S[0].sqrt()


def tconv_no_output_padding(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    return CF.conv_transpose2d(input, weight, bias, stride, padding)


def tconv_not_flipped(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    return CF.conv_transpose2d(input, weight.flip(-2, -1), bias, stride, padding, output_padding)


def backward_without_output_padding(input, weight, grad_output, stride=1, padding=0):
    _, grad_weight, grad_bias = conv2d_backward(input, weight, grad_output, stride, padding)
    return CF.conv_transpose2d(grad_output, weight, None, stride, padding), grad_weight, grad_bias


def backward_bias_per_sample(input, weight, grad_output, stride=1, padding=0):
    grad_input, grad_weight, _ = conv2d_backward(input, weight, grad_output, stride, padding)
    return grad_input, grad_weight, grad_output.sum(dim=(2, 3))


class DoubledWeightGradient(Conv2dFunction):
    @staticmethod
    def backward(ctx, grad_output):
        grads = list(Conv2dFunction.backward(ctx, grad_output))
        grads[1] = grads[1] * 2
        return tuple(grads)


def trace_off_by_one(layers, input_shape):
    """Every spatial size one too big: the '+ 1' of the size formula counted twice."""
    trace = shape_trace(layers, input_shape)
    return [tuple(s) if len(s) != 3 else (s[0], s[1] + 1, s[2] + 1) for s in trace]


def always_raises(kernel):
    raise ValueError("not separable")


class LeNetWithoutReLU(LeNet):
    def forward(self, x):
        x = self.features(x)[-1].flatten(1)
        x = x @ self.fc1_weight.T + self.fc1_bias
        x = x @ self.fc2_weight.T + self.fc2_bias
        return x @ self.fc3_weight.T + self.fc3_bias


class LeNetWrongOrder(LeNet):
    def __init__(self):
        super().__init__()
        bias = self._parameters.pop("conv1_bias")
        self.conv1_bias = bias     # registered last now




# -- answers calling torch's own kernels ------------------------------------------------------------

class TorchConvFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None, stride=1, padding=0):
        ctx.save_for_backward(input, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return torch.conv2d(input, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_output):
        return Conv2dFunction.backward(ctx, grad_output)


class TorchLeNet(LeNet):
    def features(self, x):
        first = nn.functional.max_pool2d(torch.relu(nn.functional.conv2d(x, self.conv1_weight, self.conv1_bias)), 2)
        second = nn.functional.max_pool2d(torch.relu(nn.functional.conv2d(first, self.conv2_weight,
                                                                            self.conv2_bias)), 2)
        return [first, second]


def trace_by_running(layers, input_shape):
    """The shapes found by running the layers (torch's convolution and pooling, on meta), as the check does."""
    return list(traced_shapes(layers, input_shape))


def calling(reference, right):
    """``right``, after a call of ``reference()``: an answer that reaches a banned reference."""
    def answer(*args, **kwargs):
        reference()
        return right(*args, **kwargs)
    return answer


# -- by exercise -------------------------------------------------------------------------------------

def channel_shuffle(input, groups):
    """Lesson 08's channel shuffle: (N, g, C/g, H, W), the two channel dimensions swapped."""
    n, c, h, w = input.shape
    return input.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def max_pool2d_backward(grad_output, indices, input_shape):
    """Lesson 10: each output's gradient added at its maximum's position in the plane."""
    grad_input = torch.zeros(input_shape, dtype=grad_output.dtype, device=grad_output.device)
    grad_input.flatten(2).scatter_add_(2, indices.flatten(2), grad_output.flatten(2))
    return grad_input


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride, share=None):
    """Lesson 10: 1/k² of each output's gradient to every input of its window (``share`` to get it wrong)."""
    grad_input = torch.zeros(input_shape, dtype=grad_output.dtype, device=grad_output.device)
    part = grad_output * (share if share is not None else 1 / kernel_size ** 2)
    for i in range(kernel_size):
        for j in range(kernel_size):
            grad_input[:, :, i:i + stride * (grad_output.shape[2] - 1) + 1:stride,
                       j:j + stride * (grad_output.shape[3] - 1) + 1:stride] += part
    return grad_input


def _max_pool2d_backward_assigned(grad_output, indices, input_shape):
    grad_input = torch.zeros(input_shape, dtype=grad_output.dtype, device=grad_output.device)
    grad_input.flatten(2).scatter_(2, indices.flatten(2), grad_output.flatten(2))
    return grad_input


def _max_pool2d_backward_by_autograd(grad_output, indices, input_shape):
    """The answer read off torch.autograd: a gather at the indices, differentiated."""
    x = torch.zeros(input_shape, dtype=grad_output.dtype, requires_grad=True)
    picked = x.flatten(2).gather(2, indices.flatten(2))
    return torch.autograd.grad(picked, x, grad_output.flatten(2))[0]


def _avg_pool2d_backward_by_reference(grad_output, input_shape, kernel_size, stride):
    """The answer read off the course's own avg_pool2d, differentiated."""
    x = torch.zeros(input_shape, dtype=grad_output.dtype, requires_grad=True)
    return torch.autograd.grad(functional.avg_pool2d(x, kernel_size, stride), x, grad_output)[0]


def learn_kernel(X, Y, kernel_size, steps, lr, mean=False):
    """Lesson 10: gradient descent from zeros on the summed squared error (``mean`` to get it wrong)."""
    K = torch.zeros(kernel_size, dtype=X.dtype, device=X.device, requires_grad=True)
    for _ in range(steps):
        error = (CF.corr2d(X, K) - Y) ** 2
        (error.mean() if mean else error.sum()).backward()
        with torch.no_grad():
            K -= lr * K.grad
            K.grad.zero_()
    return K.detach()


def conv1d(input, weight, bias=None, stride=1, padding=0):
    """Lesson 12: the windows of a padded signal, one einsum."""
    x = torch.nn.functional.pad(input, (padding, padding)) if padding else input
    out = torch.einsum("nclk,ock->nol", x.unfold(2, weight.shape[2], stride), weight)
    return out if bias is None else out + bias[:, None]


def conv3d(input, weight, bias=None, stride=1, padding=0):
    """Lesson 12: unfold along depth, height and width, one einsum."""
    x = torch.nn.functional.pad(input, (padding,) * 6) if padding else input
    kd, kh, kw = weight.shape[2:]
    windows = x.unfold(2, kd, stride).unfold(3, kh, stride).unfold(4, kw, stride)
    out = torch.einsum("ncdhwijk,ocijk->nodhw", windows, weight)
    return out if bias is None else out + bias[:, None, None, None]


def bottleneck_cost(channels, width, size):
    """Lesson 04's bottleneck block, counted with convlab.shapes."""
    layers = [(channels, width, 1), (width, width, 3), (width, channels, 1)]
    return (sum(shapes.conv_parameter_count(i, o, (k, k)) for i, o, k in layers),
            sum(shapes.conv_macs(i, o, (k, k), size, padding=k // 2) for i, o, k in layers))


def _without_biases(channels, width, size):
    parameters, macs = bottleneck_cost(channels, width, size)
    return parameters - 2 * width - channels, macs


RIGHT = {
    "lesson01.corr2d": lambda X, K: corr2d(X, K),
    "lesson02.pad_constant": pad,
    "lesson02.pad": pad,
    "lesson02.corr2d": corr2d,
    "lesson02.conv_output_size": conv_output_size,
    "lesson03.corr2d_multi_in": corr2d_multi_in,
    "lesson03.corr2d_multi_in_out": corr2d_multi_in_out,
    "lesson03.conv2d": lambda input, weight, bias=None, stride=1, padding=0: conv2d(input, weight, bias, stride, padding),
    "lesson03.count_parameters": count_parameters,
    "lesson04.conv1x1_as_matmul": conv1x1_as_matmul,
    "lesson04.bottleneck_cost": bottleneck_cost,
    "lesson05.conv2d": conv2d,
    "lesson05.receptive_field": receptive_field,
    "lesson06.max_pool2d_windows": max_pool2d,
    "lesson06.max_pool2d_edges": max_pool2d,
    "lesson06.max_pool2d": max_pool2d,
    "lesson06.avg_pool2d": avg_pool2d,
    "lesson07.unfold": CF.unfold,
    "lesson07.conv2d_im2col": conv2d_im2col,
    "lesson07.conv_matrix": conv_matrix,
    "lesson08.conv2d": grouped_conv2d,
    "lesson08.channel_shuffle": channel_shuffle,
    "lesson08.depthwise_separable_conv": depthwise_separable_conv,
    "lesson08.separable_kernel": separable_kernel,
    "lesson09.conv_transpose2d": conv_transpose2d,
    "lesson09.conv_transpose2d_as_matmul": conv_transpose_via_matrix,
    "lesson10.conv2d_backward": conv2d_backward,
    "lesson10.conv2d_function": Conv2dFunction,
    "lesson10.max_pool2d_backward": max_pool2d_backward,
    "lesson10.avg_pool2d_backward": avg_pool2d_backward,
    "lesson10.learn_kernel": learn_kernel,
    "lesson11.shape_trace": shape_trace,
    "lesson11.model": LeNet,
    "lesson12.conv1d": conv1d,
    "lesson12.conv3d": conv3d,
}

#: (answer, a fragment its feedback must hold) for the recognisable mistakes of each exercise.
MISTAKES = {
    "lesson12.conv1d": [
        (lambda input, weight, bias=None, stride=1, padding=0: conv1d(input, weight.flip(2), bias, stride, padding),
         "kernel flipped"),
        (lambda input, weight, bias=None, stride=1, padding=0: conv1d(input, weight, None, stride, padding),
         "bias missing")],
    "lesson12.conv3d": [
        (lambda input, weight, bias=None, stride=1, padding=0: conv3d(input, weight.flip(2, 3, 4), bias, stride,
                                                                      padding), "kernel flipped"),
        (lambda input, weight, bias=None, stride=1, padding=0: conv3d(input, weight, bias, 1, padding),
         "stride ignored")],
    "lesson10.learn_kernel": [
        (lambda X, Y, k, steps, lr: learn_kernel(X, Y, k, steps - 1, lr), "one update too few"),
        (lambda X, Y, k, steps, lr: learn_kernel(X, Y, k, steps, lr, mean=True), "the mean of the squared errors")],
    "lesson10.max_pool2d_backward": [(_max_pool2d_backward_assigned, "overlapping windows")],
    "lesson10.avg_pool2d_backward": [
        (lambda g, shape, k, s: avg_pool2d_backward(g, shape, k, s, share=1), "not divided by the window size"),
        (lambda g, shape, k, s: avg_pool2d_backward(g, shape, k, s, share=1 / k), "divided by k")],
    "lesson08.channel_shuffle": [
        (lambda input, groups: channel_shuffle(input, input.shape[1] // groups), "groups and channels per group swapped"),
        (lambda input, groups: input.clone(), "nothing shuffled")],
    "lesson04.bottleneck_cost": [
        (_without_biases, "biases not counted"),
        (lambda c, w, size: (bottleneck_cost(c, w, size)[0], bottleneck_cost(c, w, size)[1] // (size * size)),
         "multiply-adds of one output pixel")],
    "lesson01.corr2d": [(lambda X, K: corr2d(X, _flip(K)), "kernel flipped"),
                        (lambda X, K: corr2d(X, K)[:-1, :-1], "off by one")],
    "lesson02.corr2d": [(lambda X, K, stride=1, padding=0: corr2d(X, K, 1, padding), "stride ignored"),
                        (lambda X, K, stride=1, padding=0: corr2d(X, K, stride, 0), "padding ignored"),
                        (_one_sided_corr2d, "padding on one side only"),
                        (lambda X, K, stride=1, padding=0: corr2d(X, _flip(K), stride, padding), "kernel flipped")],
    "lesson02.pad_constant": [
        (lambda input, p, mode="constant", value=None: pad(input, (*p[2:4], *p[:2]) if len(p) == 4 else (0, 0, *p),
                                                            mode, value), "wrong order"),
        (lambda input, p, mode="constant", value=None: pad(input, p, mode), "value ignored")],
    "lesson02.pad": [
        (_pad_reflect_repeating_the_edge, "edge repeated"),
        (lambda input, p, mode="constant", value=None: pad(input, p, "replicate" if mode == "circular" else mode, value),
         "looks like 'replicate' padding, not 'circular'")],
    "lesson02.conv_output_size": [
        (lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride, "+ 1"),
        (lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1, "padding counted once"),
        (lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1, "stride ignored")],
    "lesson03.corr2d_multi_in": [
        (lambda X, K: torch.stack([corr2d(x, k) for x, k in zip(X, K)]), "channels not summed"),
        (lambda X, K: corr2d(X[0], K[0]), "only the first channel")],
    "lesson03.corr2d_multi_in_out": [(lambda X, K: corr2d_multi_in_out(X, K).sum(0), "output channels summed")],
    "lesson03.conv2d": [
        (lambda input, weight, bias=None, stride=1, padding=0: conv2d(input, weight, None, stride, padding),
         "bias missing"),
        (lambda input, weight, bias=None, stride=1, padding=0: conv2d(input, weight, bias, 1, padding),
         "stride ignored"),
        (lambda input, weight, bias=None, stride=1, padding=0: conv2d(input, _flip(weight), bias, stride, padding),
         "kernel flipped")],
    "lesson03.count_parameters": [(lambda i, o, k, bias=True: count_parameters(i, o, k, False), "bias not counted")],
    "lesson04.conv1x1_as_matmul": [(lambda input, weight, bias=None: conv1x1_as_matmul(input, weight), "bias missing")],
    "lesson05.conv2d": [
        (lambda input, weight, bias=None, stride=1, padding=0, dilation=1: conv2d(input, weight, bias, stride, padding),
         "dilation ignored"),
        (lambda input, weight, bias=None, stride=1, padding=0, dilation=1:
            conv2d(input, weight, bias, stride, 0, dilation), "padding ignored")],
    "lesson05.receptive_field": [
        (lambda ks, strides=None, dilations=None: receptive_field(ks, None, dilations), "strides ignored"),
        (lambda ks, strides=None, dilations=None: receptive_field(ks, strides, None), "dilation ignored")],
    "lesson06.max_pool2d_windows": [
        (lambda input, kernel_size, stride=None, **kw: max_pool2d(input, kernel_size, 1 if stride is None else stride,
                                                                  **kw), "stride defaults to kernel_size"),
        (lambda input, kernel_size, stride=None, padding=0, dilation=1, **kw:
            max_pool2d(input, kernel_size, stride, padding, 1, **kw), "dilation ignored")],
    "lesson06.max_pool2d_edges": [
        (_max_pool_zero_padded, "padded with zeros"),
        (lambda input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **kw:
            max_pool2d(input, kernel_size, stride, padding, dilation, False, **kw), "ceil_mode ignored")],
    "lesson06.max_pool2d": [
        (lambda input, kernel_size, stride=None, **kw: max_pool2d(input, kernel_size, 1 if stride is None else stride,
                                                                  **kw), "stride defaults to kernel_size"),
        (lambda input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **kw:
            max_pool2d(input, kernel_size, stride, padding, dilation, False, **kw), "ceil_mode ignored"),
        (lambda input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False:
            max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode), "should return a tuple of 2 values")],
    "lesson06.avg_pool2d": [
        (lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None: avg_pool2d(input, kernel_size, stride, padding, ceil_mode, not count_include_pad,
                                              divisor_override), "divisor"),
        (lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None: avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad),
         "divisor_override ignored")],
    "lesson07.unfold": [(unfold_channels_last, "channel varying slowest")],
    "lesson07.conv_matrix": [(conv_matrix_flipped, "kernel flipped")],
    "lesson07.conv2d_im2col": [(lambda input, weight, bias=None, stride=1, padding=0:
                                CF.conv2d(input, weight, None, stride, padding), "bias missing")],
    "lesson08.conv2d": [(groups_ignored, "groups ignored")],
    "lesson08.depthwise_separable_conv": [
        (lambda input, depthwise_weight, pointwise_weight, stride=1, padding=0:
            depthwise_separable_conv(input, depthwise_weight.flip(-2, -1), pointwise_weight, stride, padding),
         "kernel flipped")],
    "lesson08.separable_kernel": [(never_raises, "raise ValueError"), (always_raises, "rank-1 kernel"),
                                  (lambda kernel: (kernel[:, 0], kernel[0]), "column should have shape")],
    "lesson09.conv_transpose2d": [(tconv_no_output_padding, "output_padding ignored"),
                                  (tconv_not_flipped, "kernel not flipped")],
    "lesson09.conv_transpose2d_as_matmul": [
        (lambda X, K: conv_transpose_via_matrix(X, K.flip(0, 1)), "kernel not flipped")],
    "lesson10.conv2d_backward": [(backward_without_output_padding, "output_padding"),
                                 (backward_bias_per_sample, "grad_bias")],
    "lesson10.conv2d_function": [(DoubledWeightGradient, "grad_weight: wrong values")],
    "lesson11.shape_trace": [(trace_off_by_one, "after layer 1,")],
    "lesson11.model": [(LeNetWithoutReLU, "output: wrong values"), (LeNetWrongOrder, "parameter conv1 bias has shape")],
}

#: Answers that call torch's own kernel for the exercise.
SHORTCUTS = {
    "lesson12.conv1d": lambda input, weight, bias=None, stride=1, padding=0:
        torch.nn.functional.conv1d(input, weight, bias, stride, padding),
    "lesson08.channel_shuffle": lambda input, groups: torch.nn.functional.channel_shuffle(input, groups),
    "lesson07.unfold": lambda input, kernel_size, dilation=1, padding=0, stride=1:
        torch.nn.functional.unfold(input, kernel_size, dilation, padding, stride),
    "lesson07.conv2d_im2col": lambda input, weight, bias=None, stride=1, padding=0:
        torch.ops.aten.convolution(input, weight, bias, [stride] * 2 if isinstance(stride, int) else stride,
                                   [padding] * 2 if isinstance(padding, int) else padding, [1, 1], False, [0, 0], 1),
    "lesson08.conv2d": lambda input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1:
        torch.conv2d(input, weight, bias, stride, padding, dilation, groups),
    "lesson09.conv_transpose2d": lambda input, weight, bias=None, stride=1, padding=0, output_padding=0:
        torch.conv_transpose2d(input, weight, bias, stride, padding, output_padding),
    "lesson09.conv_transpose2d_as_matmul": lambda X, K:
        torch.nn.functional.conv_transpose2d(X[None, None], K[None, None])[0, 0],
    "lesson10.conv2d_backward": lambda input, weight, grad_output, stride=1, padding=0:
        torch.ops.aten.convolution_backward(grad_output, input, weight, [weight.shape[0]],
                                            [stride] * 2 if isinstance(stride, int) else stride,
                                            [padding] * 2 if isinstance(padding, int) else padding,
                                            [1, 1], False, [0, 0], 1, [True, True, True]),
    "lesson10.conv2d_function": TorchConvFunction,
    "lesson11.shape_trace": trace_by_running,
    "lesson11.model": TorchLeNet,
}

#: An answer reaching one of the exercise's banned references, for every exercise that bans one.
BANNED = {
    "lesson12.conv1d": lambda input, weight, bias=None, stride=1, padding=0:
        functional.conv1d(input, weight, bias, stride, padding),
    "lesson12.conv3d": lambda input, weight, bias=None, stride=1, padding=0:
        functional.conv3d(input, weight, bias, stride, padding),
    "lesson10.max_pool2d_backward": _max_pool2d_backward_by_autograd,
    "lesson10.avg_pool2d_backward": _avg_pool2d_backward_by_reference,
    "lesson01.corr2d": functional.corr2d,
    "lesson02.pad_constant": functional.pad,
    "lesson02.pad": functional.pad,
    "lesson02.corr2d": lambda X, K, stride=1, padding=0:
        functional.conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0],
    "lesson02.conv_output_size": shapes.conv_output_size,
    "lesson03.corr2d_multi_in": lambda X, K: functional.conv2d(X[None], K[None])[0, 0],
    "lesson03.corr2d_multi_in_out": lambda X, K: naive.conv2d(X[None], K)[0],
    "lesson03.conv2d": naive.conv2d,
    "lesson03.count_parameters": lambda i, o, k, bias=True: shapes.conv_parameter_count(i, o, k, bias=bias),
    "lesson04.conv1x1_as_matmul": functional.conv2d,
    "lesson05.conv2d": functional.conv2d,
    "lesson05.receptive_field": shapes.receptive_field,
    "lesson06.max_pool2d_windows": functional.max_pool2d,
    "lesson06.max_pool2d_edges": naive.max_pool2d,
    "lesson06.max_pool2d": functional.max_pool2d,
    "lesson06.avg_pool2d": naive.avg_pool2d,
    "lesson07.unfold": CF.unfold,
    "lesson07.conv2d_im2col": conv2d_im2col,
    "lesson07.conv_matrix": conv_matrix,
    "lesson08.conv2d": grouped_conv2d,
    "lesson08.depthwise_separable_conv": calling(lenet_layers, depthwise_separable_conv),
    "lesson08.separable_kernel": calling(lenet_layers, separable_kernel),
    "lesson09.conv_transpose2d": conv_transpose2d,
    "lesson09.conv_transpose2d_as_matmul": conv_transpose_via_matrix,
    "lesson10.conv2d_backward": conv2d_backward,
    "lesson10.conv2d_function": Conv2dFunction,
    "lesson11.shape_trace": calling(lenet_layers, shape_trace),
    "lesson11.model": LeNet,
}

#: The course's own kernels, written independently of the checks: each must pass the check it answers.
COURSE_KERNELS = [
    ("lesson01.corr2d", functional.corr2d),
    ("lesson02.pad_constant", functional.pad),
    ("lesson02.pad", functional.pad),
    ("lesson02.corr2d", BANNED["lesson02.corr2d"]),
    ("lesson03.conv2d", functional.conv2d),
    ("lesson05.conv2d", functional.conv2d),
    ("lesson06.max_pool2d_windows", functional.max_pool2d),
    ("lesson06.max_pool2d_edges", functional.max_pool2d),
    ("lesson06.max_pool2d", functional.max_pool2d),
    ("lesson06.avg_pool2d", functional.avg_pool2d),
    ("lesson01.corr2d", naive.corr2d),
    ("lesson03.conv2d", naive.conv2d),
    ("lesson06.max_pool2d", naive.max_pool2d),
    ("lesson06.avg_pool2d", naive.avg_pool2d),
]


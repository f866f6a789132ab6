"""Each lesson 01-06 check passes a correct implementation and names each recognisable mistake."""
import math

import pytest
import torch

from convlab.checks import CheckFailed, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06

pytestmark = pytest.mark.grading


# -- correct implementations from general tensor operations ------------------------------------

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


# -- mistaken implementations: (check, function, expected fragment of the feedback) ---------------

def _flip(K):
    return K.flip(-2, -1)


def _one_sided_corr2d(X, K, stride=1, padding=0):
    ph, pw = _pair(padding)
    return corr2d(_zero_pad(X, 0, 0, 0.0, ph, pw), K, stride=stride)


def _max_pool_zero_padded(input, kernel_size, stride=None, padding=0, **kw):
    ph, pw = _pair(padding)
    return max_pool2d(_zero_pad(input, ph, pw), kernel_size, stride=kernel_size if stride is None else stride, **kw)


CORRECT = [
    (lesson01.corr2d, lambda X, K: corr2d(X, K)),
    (lesson02.pad, pad),
    (lesson02.corr2d, corr2d),
    (lesson02.conv_output_size, conv_output_size),
    (lesson03.corr2d_multi_in, corr2d_multi_in),
    (lesson03.corr2d_multi_in_out, corr2d_multi_in_out),
    (lesson03.conv2d, lambda input, weight, bias=None, stride=1, padding=0:
        conv2d(input, weight, bias, stride, padding)),
    (lesson03.count_parameters, count_parameters),
    (lesson04.conv1x1_as_matmul, conv1x1_as_matmul),
    (lesson05.conv2d, conv2d),
    (lesson05.receptive_field, receptive_field),
    (lesson06.max_pool2d, max_pool2d),
    (lesson06.avg_pool2d, avg_pool2d),
]

MISTAKES = [
    (lesson01.corr2d, lambda X, K: corr2d(X, _flip(K)), "kernel flipped"),
    (lesson01.corr2d, lambda X, K: corr2d(X, K)[:-1, :-1], "off by one"),
    (lesson02.corr2d, lambda X, K, stride=1, padding=0: corr2d(X, K, 1, padding), "stride ignored"),
    (lesson02.corr2d, lambda X, K, stride=1, padding=0: corr2d(X, K, stride, 0), "padding ignored"),
    (lesson02.corr2d, _one_sided_corr2d, "padding on one side only"),
    (lesson02.corr2d, lambda X, K, stride=1, padding=0: corr2d(X, _flip(K), stride, padding), "kernel flipped"),
    (lesson02.pad, lambda input, p, mode="constant", value=None:
        pad(input, (p[2], p[3], p[0], p[1]), mode, value), "wrong order"),
    (lesson02.pad, lambda input, p, mode="constant", value=None: pad(input, p, mode), "value ignored"),
    (lesson02.conv_output_size, lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride, "+ 1"),
    (lesson02.conv_output_size, lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1,
     "padding counted once"),
    (lesson02.conv_output_size, lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1, "stride ignored"),
    (lesson03.corr2d_multi_in, lambda X, K: torch.stack([corr2d(x, k) for x, k in zip(X, K)]), "channels not summed"),
    (lesson03.corr2d_multi_in, lambda X, K: corr2d(X[0], K[0]), "only the first channel"),
    (lesson03.corr2d_multi_in_out, lambda X, K: corr2d_multi_in_out(X, K).sum(0), "output channels summed"),
    (lesson03.conv2d, lambda input, weight, bias=None, stride=1, padding=0:
        conv2d(input, weight, None, stride, padding),
     "bias missing"),
    (lesson03.conv2d, lambda input, weight, bias=None, stride=1, padding=0: conv2d(input, weight, bias, 1, padding),
     "stride ignored"),
    (lesson03.conv2d, lambda input, weight, bias=None, stride=1, padding=0:
        conv2d(input, _flip(weight), bias, stride, padding), "kernel flipped"),
    (lesson03.count_parameters, lambda i, o, k, bias=True: count_parameters(i, o, k, False), "bias not counted"),
    (lesson04.conv1x1_as_matmul, lambda input, weight, bias=None: conv1x1_as_matmul(input, weight), "bias missing"),
    (lesson05.conv2d, lambda input, weight, bias=None, stride=1, padding=0, dilation=1:
        conv2d(input, weight, bias, stride, padding), "dilation ignored"),
    (lesson05.conv2d, lambda input, weight, bias=None, stride=1, padding=0, dilation=1:
        conv2d(input, weight, bias, stride, 0, dilation), "padding ignored"),
    (lesson05.receptive_field, lambda ks, strides=None, dilations=None: receptive_field(ks, None, dilations),
     "strides ignored"),
    (lesson05.receptive_field, lambda ks, strides=None, dilations=None: receptive_field(ks, strides, None),
     "dilation ignored"),
    (lesson06.max_pool2d, lambda input, kernel_size, stride=None, **kw:
        max_pool2d(input, kernel_size, 1 if stride is None else stride, **kw), "stride defaults to kernel_size"),
    (lesson06.max_pool2d, lambda input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **kw:
        max_pool2d(input, kernel_size, stride, padding, dilation, False, **kw), "ceil_mode ignored"),
    (lesson06.max_pool2d, lambda input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
        return_indices=False: max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode),
     "should return a tuple of 2 values"),
    (lesson06.avg_pool2d, lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
        divisor_override=None: avg_pool2d(input, kernel_size, stride, padding, ceil_mode, not count_include_pad,
                                          divisor_override), "divisor"),
    (lesson06.avg_pool2d, lambda input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
        divisor_override=None: avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad),
     "divisor_override ignored"),
]


@pytest.mark.parametrize("check, fn", CORRECT, ids=[c.name for c, _ in CORRECT])
@pytest.mark.parametrize("seed, cases", [(0, None), (831, 12)])
def test_a_correct_implementation_passes(check, fn, seed, cases):
    check(fn, seed=seed, cases=cases)


@pytest.mark.parametrize("check, fn, fragment", MISTAKES,
                         ids=[f"{c.name}-{frag}" for c, _, frag in MISTAKES])
def test_a_mistake_fails_and_is_named(check, fn, fragment):
    with pytest.raises(CheckFailed) as failure:
        check(fn, cases=12)
    message = str(failure.value)
    assert fragment in message, message
    assert len(message.splitlines()) <= 4, message


def test_max_pool_padding_with_zeros_is_named():
    with pytest.raises(CheckFailed, match="padded with zeros"):
        lesson06.max_pool2d(_max_pool_zero_padded, cases=20)


def test_conv1x1_may_not_call_torch_conv():
    def cheat(input, weight, bias=None):
        return torch.nn.functional.conv2d(input, weight, bias)

    with pytest.raises(CheckFailed, match=r"torch's own convolution .*aten\.convolution"):
        lesson04.conv1x1_as_matmul(cheat)


def test_pad_may_not_call_torch_pad_but_conv_may():
    with pytest.raises(CheckFailed, match=r"F\.pad"):
        lesson02.pad(lambda input, p, mode="constant", value=None:
                     torch.nn.functional.pad(input, p, mode=mode, value=value))

    def padded_conv(input, weight, bias=None, stride=1, padding=0):
        ph, pw = _pair(padding)
        return conv2d(torch.nn.functional.pad(input, (pw, pw, ph, ph)), weight, bias, stride)

    lesson03.conv2d(padded_conv)


def test_pooling_may_not_call_torch_pooling():
    with pytest.raises(CheckFailed, match=r"uses torch's own max_pool2d \(aten\.max_pool2d_with_indices\)"):
        lesson06.max_pool2d(lambda input, *a, **k: torch.nn.functional.max_pool2d(input, *a, **k))
    with pytest.raises(CheckFailed, match=r"uses torch's own avg_pool2d \(aten\.avg_pool2d\)"):
        lesson06.avg_pool2d(lambda input, *a, **k: torch.nn.functional.avg_pool2d(input, *a, **k))


def test_the_receptive_field_oracle_agrees_with_the_formula():
    from convlab.checks.lesson05 import measured_receptive_field
    from convlab.shapes import receptive_field as formula

    for case in lesson05.receptive_field.cases(3, 60):
        assert measured_receptive_field(*case.args, **case.kwargs) == formula(*case.args, **case.kwargs), case


def _course_kernels():
    """The course's own kernels, written independently of the checks: each must pass its check."""
    from convlab import functional
    pairs = [
        (lesson01.corr2d, functional.corr2d),
        (lesson02.pad, functional.pad),
        (lesson02.corr2d, lambda X, K, stride=1, padding=0:
            functional.conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]),
        (lesson03.conv2d, functional.conv2d),
        (lesson05.conv2d, functional.conv2d),
        (lesson06.max_pool2d, functional.max_pool2d),
        (lesson06.avg_pool2d, functional.avg_pool2d),
    ]
    try:
        import convlab.naive as naive
    except ImportError:
        return pairs
    return pairs + [(lesson01.corr2d, naive.corr2d), (lesson03.conv2d, naive.conv2d),
                    (lesson06.max_pool2d, naive.max_pool2d), (lesson06.avg_pool2d, naive.avg_pool2d)]


def _without_references(check):
    """The check with its ban on the course's references lifted, to test the references themselves."""
    import copy

    lifted = copy.copy(check)
    lifted.references = ()
    return lifted


def test_the_course_kernels_pass_their_checks_with_hidden_seeds():
    for check, kernel in _course_kernels():
        _without_references(check)(kernel, seed=831, cases=12)


def test_the_course_kernels_earn_nothing_as_answers():
    for check, kernel in _course_kernels():
        with pytest.raises(CheckFailed, match="uses the course's reference convlab"):
            check(kernel, seed=831, cases=3)


def test_every_exercise_lists_its_banned_references_in_the_docs():
    from pathlib import Path

    from convlab.checks import lesson07, lesson08, lesson09, lesson10, lesson11
    from convlab.checks.core import Exercise

    doc = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text()
    for module in (lesson01, lesson02, lesson03, lesson04, lesson05, lesson06, lesson07, lesson08, lesson09,
                   lesson10, lesson11):
        for exercise in vars(module).values():
            if isinstance(exercise, Exercise):
                row = next(line for line in doc.splitlines() if line.startswith(f"| `{exercise.name}` |"))
                for reference in exercise.references:
                    name = reference[0] if isinstance(reference, tuple) else reference
                    assert f"`{name}`" in row, f"docs/exercises.md does not list {name} for {exercise.name}"

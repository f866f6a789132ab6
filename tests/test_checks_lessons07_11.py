"""Each lesson 07-11 check passes a correct implementation, names recognisable mistakes, bans torch's kernels,
and leaves records that the trusted re-verification judges the same way."""
import math

import pytest
import torch
from torch import nn

import convlab.functional as CF
from convlab import shapes
from convlab.autograd import Conv2dFunction, conv2d_backward
from autograder.records import verify_records
from convlab.checks import CheckFailed, lesson07, lesson08, lesson09, lesson10, lesson11
from convlab.matrices import conv_matrix, conv_transpose_via_matrix
from convlab.models import LeNet

pytestmark = pytest.mark.grading


# -- correct implementations from the course's reference kernels --------------------------------

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


def lifted(check):
    """The check with its ban on the course's references lifted: these answers are built from them."""
    import copy

    check = copy.copy(check)
    check.references = ()
    return check


CORRECT = [
    (lesson07.unfold, CF.unfold),
    (lesson07.conv2d_im2col, conv2d_im2col),
    (lesson07.conv_matrix, conv_matrix),
    (lesson08.conv2d, grouped_conv2d),
    (lesson08.depthwise_separable_conv, depthwise_separable_conv),
    (lesson08.separable_kernel, separable_kernel),
    (lesson09.conv_transpose2d, conv_transpose2d),
    (lesson09.conv_transpose2d_as_matmul, conv_transpose_via_matrix),
    (lesson10.conv2d_backward, conv2d_backward),
    (lesson10.conv2d_function, Conv2dFunction),
    (lesson11.shape_trace, shape_trace),
    (lesson11.model, LeNet),
]


@pytest.mark.parametrize("check, fn", CORRECT, ids=[c.name for c, _ in CORRECT])
def test_a_correct_answer_passes_visible_and_other_seeds(check, fn):
    lifted(check)(fn)
    lifted(check)(fn, seed=4242, cases=4)


def test_the_lessons_worked_examples_are_among_the_cases():
    first = lambda check: check.cases(0, 1)[0]  # noqa: E731
    assert first(lesson07.conv_matrix).args[1] == (5, 5) and first(lesson07.conv_matrix).args[0].shape == (3, 3)
    assert first(lesson08.conv2d).args[0].shape[1] == 4 and first(lesson08.conv2d).kwargs["groups"] == 2
    assert first(lesson09.conv_transpose2d_as_matmul).args[0].shape == (3, 3)
    assert first(lesson10.conv2d_backward).args[0].shape == (2, 3, 5, 5)
    assert first(lesson10.conv2d_backward).args[2].shape == (2, 4, 3, 3)
    layers, shape = first(lesson11.shape_trace).args
    assert lesson11.traced_shapes(layers, shape)[5] == (16, 6, 6)


# -- mistakes are named ----------------------------------------------------------------------------

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


MISTAKES = [
    (lesson07.unfold, unfold_channels_last, "channel varying slowest"),
    (lesson07.conv_matrix, conv_matrix_flipped, "kernel flipped"),
    (lesson07.conv2d_im2col, lambda input, weight, bias=None, stride=1, padding=0:
        CF.conv2d(input, weight, None, stride, padding), "bias missing"),
    (lesson08.conv2d, groups_ignored, "groups ignored"),
    (lesson08.separable_kernel, never_raises, "raise ValueError"),
    (lesson08.separable_kernel, always_raises, "rank-1 kernel"),
    (lesson08.separable_kernel, lambda kernel: (kernel[:, 0], kernel[0]), "column should have shape"),
    (lesson09.conv_transpose2d, tconv_no_output_padding, "output_padding ignored"),
    (lesson09.conv_transpose2d, tconv_not_flipped, "kernel not flipped"),
    (lesson10.conv2d_backward, backward_without_output_padding, "output_padding"),
    (lesson10.conv2d_backward, backward_bias_per_sample, "grad_bias"),
    (lesson10.conv2d_function, DoubledWeightGradient, "grad_weight: wrong values"),
    (lesson11.shape_trace, trace_off_by_one, "after layer 1,"),
    (lesson11.model, LeNetWithoutReLU, "output: wrong values"),
    (lesson11.model, LeNetWrongOrder, "parameter conv1 bias has shape"),
]


@pytest.mark.parametrize("check, fn, needle", MISTAKES, ids=[f"{c.name}-{n}" for c, _, n in MISTAKES])
def test_a_mistake_fails_with_feedback_naming_it(check, fn, needle):
    with pytest.raises(CheckFailed) as failure:
        lifted(check)(fn, cases=8)
    message = str(failure.value)
    assert needle in message, message
    assert len(message.splitlines()) <= 4, message


# -- torch's own kernels are refused ---------------------------------------------------------------

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
    x = torch.empty((1, *input_shape), device="meta")
    out = []
    for layer in layers:
        x = layer(x)
        out.append(tuple(x.shape[1:]))
    return out


SHORTCUTS = [
    (lesson07.unfold, lambda input, kernel_size, dilation=1, padding=0, stride=1:
        torch.nn.functional.unfold(input, kernel_size, dilation, padding, stride)),
    (lesson07.conv2d_im2col, lambda input, weight, bias=None, stride=1, padding=0:
        torch.ops.aten.convolution(input, weight, bias, [stride] * 2 if isinstance(stride, int) else stride,
                                   [padding] * 2 if isinstance(padding, int) else padding, [1, 1], False, [0, 0], 1)),
    (lesson08.conv2d, lambda input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1:
        torch.conv2d(input, weight, bias, stride, padding, dilation, groups)),
    (lesson09.conv_transpose2d, lambda input, weight, bias=None, stride=1, padding=0, output_padding=0:
        torch.conv_transpose2d(input, weight, bias, stride, padding, output_padding)),
    (lesson09.conv_transpose2d_as_matmul, lambda X, K:
        torch.nn.functional.conv_transpose2d(X[None, None], K[None, None])[0, 0]),
    (lesson10.conv2d_backward, lambda input, weight, grad_output, stride=1, padding=0:
        torch.ops.aten.convolution_backward(grad_output, input, weight, [weight.shape[0]],
                                            [stride] * 2 if isinstance(stride, int) else stride,
                                            [padding] * 2 if isinstance(padding, int) else padding,
                                            [1, 1], False, [0, 0], 1, [True, True, True])),
    (lesson10.conv2d_function, TorchConvFunction),
    (lesson11.shape_trace, trace_by_running),
    (lesson11.model, TorchLeNet),
]


@pytest.mark.parametrize("check, fn", SHORTCUTS, ids=[c.name for c, _ in SHORTCUTS])
def test_torchs_own_kernel_is_reported_and_fails(check, fn):
    with pytest.raises(CheckFailed, match="uses torch's own"):
        lifted(check)(fn, cases=3)


def test_a_class_check_refuses_a_function():
    with pytest.raises(CheckFailed, match="Conv2dFunction itself"):
        lesson10.conv2d_function(conv2d_backward)
    with pytest.raises(CheckFailed, match="LeNet itself"):
        lesson11.model(LeNet())


# -- records are re-judged the same way outside the kernel ------------------------------------------

@pytest.fixture
def record_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(tmp_path))
    monkeypatch.setenv("CONVLAB_CELL_ID", "cell")
    return tmp_path


RECORDED = [
    (lesson08.separable_kernel, separable_kernel, never_raises),
    (lesson10.conv2d_function, Conv2dFunction, DoubledWeightGradient),
    (lesson11.shape_trace, shape_trace, trace_off_by_one),
    (lesson11.model, LeNet, LeNetWithoutReLU),
]


@pytest.mark.parametrize("check, right, wrong", RECORDED, ids=[c.name for c, _, _ in RECORDED])
def test_records_verify_outside_the_kernel(record_dir, check, right, wrong):
    check = lifted(check)
    check(right, seed=3, cases=3)
    with pytest.raises(CheckFailed) as failure:
        check(wrong, seed=3, cases=3)
    verdicts = verify_records(record_dir)["cell"]
    assert [v.passed for v in verdicts] == [True, False], [v.message for v in verdicts]
    assert verdicts[1].message == str(failure.value)


@pytest.mark.parametrize("check, fn", CORRECT, ids=[c.name for c, _ in CORRECT])
def test_an_answer_built_on_the_banned_references_earns_nothing(check, fn):
    if not check.references:
        pytest.skip(f"{check.name} bans no reference")
    from convlab.checks import references

    uses = set()
    with references.forbid_references(check.references) as watch:
        try:
            case = check.cases(0)[0]
            check.call(check.prepare(fn), case, 0, "cpu")
        finally:
            uses.update(watch.names)
    if not uses:
        pytest.skip(f"this answer to {check.name} is written without a banned reference")
    with pytest.raises(CheckFailed, match="uses the course's reference|which computes this exercise's answer"):
        check(fn, cases=2)

"""Checks for lesson 10 (backpropagation): conv2d_backward, a Conv2dFunction and the pooling layers'
backward passes, against torch.autograd."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, CheckFailed, Exercise, NamedParts
from convlab.checks.questions import Question
from convlab.checks.variants import pair
from convlab.i18n import N_, _


def backward(tensor, gradient):
    """The check's own backward pass: autograd is banned only for the learner's code. Without torch
    function modes, so that torch's dispatch back into the (instrumented) public function is skipped."""
    with torch._C.DisableTorchFunction():
        ref.original(torch.autograd.backward)(tensor, gradient)

GRAD_INPUT_NOT_FLIPPED = N_("grad_input: kernel not flipped — the input gradient is a transposed convolution "
                            "(a correlation with the flipped kernel)")
OUTPUT_PADDING_MISSING = N_("grad_input too small — when the stride skips rows at the end, give conv_transpose2d "
                            "output_padding = (H + 2p - k) mod stride")
BIAS_NOT_SUMMED = N_("grad_bias: sum grad_output over the batch and both spatial dimensions, one value per channel")
WEIGHT_STRIDE_AS_STRIDE = N_("grad_weight: the forward stride becomes a dilation of grad_output in the correlation "
                             "(and the forward dilation a stride)")


EXAMPLES = ({"batch": 2, "in_channels": 3, "out_channels": 4, "size": (5, 5), "kernel_size": 3, "stride": 1,
             "padding": 0},   # the lesson's example: (2, 3, 5, 5) -> (2, 4, 3, 3)
            {"batch": 2, "in_channels": 2, "out_channels": 3, "size": (6, 7), "kernel_size": (3, 2), "stride": 2,
             "padding": 0})   # a stride that skips the last row and column: output_padding needed


def _draw_conv(draw, i, example: dict):
    """Case i's conv2d: (input, weight, bias or None, stride, padding, grad_output of the output's shape)."""
    case = draw.conv_case(i, **example)
    (x, weight), kwargs = case.args, case.kwargs
    stride, padding = kwargs.get("stride", 1), kwargs.get("padding", 0)
    out_shape = F.conv2d(torch.empty(x.shape, device="meta"), torch.empty(weight.shape, device="meta"),
                         stride=stride, padding=padding).shape
    return x, weight, kwargs.get("bias"), stride, padding, draw.randn(*out_shape, dtype=x.dtype)


def autograd_gradients(input, weight, bias, grad_output, stride, padding):
    """torch.autograd's gradients of conv2d in float64: (grad_input, grad_weight[, grad_bias])."""
    leaves = [t.detach().clone().requires_grad_() for t in (input, weight)]
    b = None if bias is None else bias.detach().clone().requires_grad_()
    out = F.conv2d(leaves[0], leaves[1], b, stride, padding)
    out.backward(grad_output)
    grads = (leaves[0].grad, leaves[1].grad)
    return out.detach(), grads + ((b.grad,) if b is not None else ())


class Conv2dBackward(NamedParts):
    """conv2d_backward(input, weight, grad_output, stride=1, padding=0) -> (grad_input, grad_weight, grad_bias)."""

    examples = EXAMPLES
    references = (*ref.MODELS, *ref.AUTOGRAD)
    parts = ("grad_input", "grad_weight", "grad_bias")

    def make_case(self, draw, i):
        x, weight, _unused, stride, padding, grad_output = _draw_conv(draw, i, self.example(i))
        kwargs = {}
        if stride != 1:
            kwargs["stride"] = stride
        if padding != 0:
            kwargs["padding"] = padding
        return Case((x, weight, grad_output), kwargs)

    def reference(self, input, weight, grad_output, stride=1, padding=0):
        bias = torch.zeros(weight.shape[0], dtype=weight.dtype)
        _unused, grads = autograd_gradients(input, weight, bias, grad_output, stride, padding)
        return grads

    def mistakes(self, input, weight, grad_output, stride=1, padding=0):
        gi, gw, gb = self.reference(input, weight, grad_output, stride, padding)
        s, p = pair(stride), pair(padding)
        flipped = F.conv_transpose2d(grad_output, weight.flip(-2, -1), None, s, p,
                                     tuple((n + 2 * pp - k) % ss for n, pp, k, ss in
                                           zip(input.shape[2:], p, weight.shape[2:], s)))
        yield GRAD_INPUT_NOT_FLIPPED, (flipped, gw, gb)
        if s != (1, 1):
            short = F.conv_transpose2d(grad_output, weight, None, s, p)
            if short.shape != gi.shape:
                yield OUTPUT_PADDING_MISSING, (short, gw, gb)
            wrong_w = F.conv2d(input.transpose(0, 1), grad_output.transpose(0, 1), None, s, p)
            if wrong_w.shape[2] >= gw.shape[2] and wrong_w.shape[3] >= gw.shape[3]:
                wrong_w = wrong_w[:, :, :gw.shape[2], :gw.shape[3]].transpose(0, 1)
                yield WEIGHT_STRIDE_AS_STRIDE, (gi, wrong_w, gb)
        yield BIAS_NOT_SUMMED, (gi, gw, grad_output.sum(dim=(2, 3)))
        yield BIAS_NOT_SUMMED, (gi, gw, grad_output.sum(dim=0))


class Conv2dFunctionCheck(NamedParts):
    """Conv2dFunction.apply(input, weight, bias, stride, padding): forward value and all three gradients.

    The learner's class is wrapped in a function that runs forward and backward inside the guard and
    returns (output, grad_input, grad_weight[, grad_bias]); torch's answer comes from autograd in float64.
    """

    arg_names = ("input", "weight", "bias", "grad_output", "stride", "padding")
    examples = EXAMPLES
    references = (*ref.MODELS, *ref.AUTOGRAD)
    parts = ("output", "grad_input", "grad_weight", "grad_bias")

    def make_case(self, draw, i):
        x, weight, bias, stride, padding, grad_output = _draw_conv(draw, i, self.example(i))
        return Case((x, weight, bias, grad_output, stride, padding))

    def reference(self, input, weight, bias, grad_output, stride, padding):
        out, grads = autograd_gradients(input, weight, bias, grad_output, stride, padding)
        return (out,) + grads

    def mistakes(self, input, weight, bias, grad_output, stride, padding):
        out, *grads = self.reference(input, weight, bias, grad_output, stride, padding)
        if bias is not None:
            yield N_("bias left out of the forward pass"), (out - bias.reshape(1, -1, 1, 1), *grads)

    def prepare(self, fn):
        if not (isinstance(fn, type) and issubclass(fn, torch.autograd.Function)):
            raise CheckFailed(_("{name}: pass your class Conv2dFunction itself (a torch.autograd.Function "
                                "subclass), got {got}.").format(name=self.name, got=type(fn).__name__))

        def forward_and_backward(input, weight, bias, grad_output, stride, padding):
            leaves = [input.requires_grad_(), weight.requires_grad_()]
            if bias is not None:
                leaves.append(bias.requires_grad_())
            out = fn.apply(input, weight, bias, stride, padding)
            if type(out) is not torch.Tensor:
                return out
            if not out.requires_grad:
                raise TypeError(_("the output does not require grad: return the result of forward, computed from "
                                  "its inputs"))
            backward(out, grad_output)
            return (out,) + tuple(leaf.grad for leaf in leaves)

        return forward_and_backward


def _draw_pool(draw, i):
    """Case i's pooling: (input, kernel_size, stride); windows overlap when stride < kernel_size."""
    kernel_size = draw.int(2, 3)
    stride = kernel_size if i == 0 else draw.int(1, kernel_size)
    if i == 1:
        kernel_size, stride = 3, 2  # overlapping windows: an input can be the maximum of two
    h, w = draw.int(kernel_size, 8), draw.int(kernel_size, 8)
    return draw.randn(draw.int(1, 2), draw.int(1, 3), h, w, dtype=draw.dtype(i)), kernel_size, stride


class MaxPool2dBackward(Exercise):
    """max_pool2d_backward(grad_output, indices, input_shape): max_pool2d's input gradient from return_indices."""

    references = (*ref.POOLING, *ref.MODELS, *ref.AUTOGRAD)

    def make_case(self, draw, i):
        x, kernel_size, stride = _draw_pool(draw, i)
        out, indices = F.max_pool2d(x, kernel_size, stride, return_indices=True)
        return Case((draw.randn(*out.shape, dtype=x.dtype), indices, tuple(x.shape)),
                   description=_("input {shape}, kernel {kernel}, stride {stride}").format(
                       shape=tuple(x.shape), kernel=kernel_size, stride=stride))

    def reference(self, grad_output, indices, input_shape):
        flat = torch.zeros(input_shape, dtype=grad_output.dtype).flatten(2)  # (N, C, H*W)
        return flat.scatter_add(2, indices.flatten(2), grad_output.flatten(2)).view(input_shape)

    def mistakes(self, grad_output, indices, input_shape):
        flat = torch.zeros(input_shape, dtype=grad_output.dtype).flatten(2)
        yield (N_("overlapping windows: an input that is the maximum of two windows gets both gradients, added "
                  "(scatter_add, not assignment)"),
               flat.scatter(2, indices.flatten(2), grad_output.flatten(2)).view(input_shape))


class AvgPool2dBackward(Exercise):
    """avg_pool2d_backward(grad_output, input_shape, kernel_size, stride): each output's gradient shared by its window."""

    references = (*ref.POOLING, *ref.MODELS, *ref.AUTOGRAD)

    def make_case(self, draw, i):
        x, kernel_size, stride = _draw_pool(draw, i)
        out_shape = (*x.shape[:2], *shapes.pool_output_shape(tuple(x.shape[2:]), kernel_size, stride))
        return Case((draw.randn(*out_shape, dtype=x.dtype), tuple(x.shape), kernel_size, stride))

    def reference(self, grad_output, input_shape, kernel_size, stride):
        x = torch.zeros(input_shape, dtype=grad_output.dtype, requires_grad=True)
        backward(F.avg_pool2d(x, kernel_size, stride), grad_output)
        return x.grad

    def mistakes(self, grad_output, input_shape, kernel_size, stride):
        right = self.reference(grad_output, input_shape, kernel_size, stride)
        yield N_("not divided by the window size — an average shares its gradient over its k x k inputs"), \
            right * kernel_size ** 2
        yield N_("divided by k, not by the k x k inputs of the window"), right * kernel_size


def _corr(X, K):
    """torch's 2D cross-correlation of one map with one kernel."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]


def _descend(X, Y, kernel_size, steps, lr, direction=-1.0, per_output=False):
    """Gradient descent on the summed squared error of corr2d(X, K) against Y, from K = 0.
    dL/dK = 2 corr2d(X, E) for the error E (``per_output``: the mean's gradient instead)."""
    K = torch.zeros(kernel_size, dtype=X.dtype)
    for _unused in range(steps):
        grad = 2 * _corr(X, _corr(X, K) - Y)
        K = K + direction * lr * (grad / Y.numel() if per_output else grad)
    return K


class LearnKernel(Exercise):
    """learn_kernel(X, Y, kernel_size, steps, lr): gradient descent from zeros on sum((corr2d(X, K) - Y)**2)."""


    def make_case(self, draw, i):
        h, w, kh, kw = draw.int(4, 8), draw.int(4, 8), draw.int(1, 3), draw.int(1, 3)
        if i == 0:  # the lesson's edge detector: a (1, 2) kernel
            h, w, kh, kw = 6, 8, 1, 2
        X, K = draw.randn(h, w, dtype=torch.float64), draw.randn(kh, kw, dtype=torch.float64)
        # A step small enough never to diverge: 2 lr |X|² kh kw bounds 2 lr times the largest curvature.
        lr = 0.25 / (kh * kw * float((X ** 2).sum()))
        return Case((X, _corr(X, K), (kh, kw), draw.int(10, 40), lr))

    def reference(self, X, Y, kernel_size, steps, lr):
        return _descend(X, Y, kernel_size, steps, lr)

    def mistakes(self, X, Y, kernel_size, steps, lr):
        yield N_("one update too few — run exactly `steps` updates"), _descend(X, Y, kernel_size, steps - 1, lr)
        yield (N_("the mean of the squared errors — the loss here is their sum, as in d2l"),
               _descend(X, Y, kernel_size, steps, lr, per_output=True))
        yield (N_("a step up the gradient — subtract lr × gradient"),
               _descend(X, Y, kernel_size, steps, lr, direction=1.0))


conv2d_backward = Conv2dBackward()
conv2d_function = Conv2dFunctionCheck()
max_pool2d_backward = MaxPool2dBackward()
avg_pool2d_backward = AvgPool2dBackward()
learn_kernel = LearnKernel()


# -- check your understanding ----------------------------------------------------------------
grad_weight_shape = Question(
    lambda: (16, 3, 5, 5),
    slips=((N_("the output's shape: a gradient has the shape of what it is the gradient of"),
            lambda: (8, 16, *shapes.conv_output_shape((32, 32), 5))),
           (N_("the input's shape: a gradient has the shape of what it is the gradient of"), lambda: (8, 3, 32, 32))))
uses_per_pixel = Question(
    lambda: 3 * 3,
    slips=((N_("one: every window that covers the pixel uses it, and 3 x 3 of them do"), lambda: 1),
           (N_("one row of windows only"), lambda: 3)))
grad_input_output_padding = Question(
    lambda: 6 - shapes.conv_transpose_output_size(shapes.conv_output_size(6, 3, 2), 3, 2),
    slips=((N_("the transposed convolution gives 5 without it: the stride dropped a row"), lambda: 0),))

"""Checks for lesson 10 (backpropagation): conv2d_backward and a Conv2dFunction, against torch.autograd."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, CheckFailed, NamedParts
from convlab.checks.questions import Question
from convlab.checks.variants import pair


def backward(tensor, gradient):
    """The check's own backward pass: autograd is banned only for the learner's code. Without torch
    function modes, so that torch's dispatch back into the (instrumented) public function is skipped."""
    with torch._C.DisableTorchFunction():
        ref.original(torch.autograd.backward)(tensor, gradient)

GRAD_INPUT_NOT_FLIPPED = ("grad_input: kernel not flipped — the input gradient is a transposed convolution "
                          "(a correlation with the flipped kernel)")
OUTPUT_PADDING_MISSING = ("grad_input too small — when the stride skips rows at the end, give conv_transpose2d "
                          "output_padding = (H + 2p - k) mod stride")
BIAS_NOT_SUMMED = "grad_bias: sum grad_output over the batch and both spatial dimensions, one value per channel"
WEIGHT_STRIDE_AS_STRIDE = ("grad_weight: the forward stride becomes a dilation of grad_output in the correlation "
                           "(and the forward dilation a stride)")


EXAMPLES = ({"batch": 2, "in_channels": 3, "out_channels": 4, "size": (5, 5), "kernel_size": 3, "stride": 1,
             "padding": 0},   # the lesson's example: (2, 3, 5, 5) -> (2, 4, 3, 3)
            {"batch": 2, "in_channels": 2, "out_channels": 3, "size": (6, 7), "kernel_size": (3, 2), "stride": 2,
             "padding": 0})   # a stride that skips the last row and column: output_padding needed


def _draw_conv(draw, i):
    """Case i's conv2d: (input, weight, bias or None, stride, padding, grad_output of the output's shape)."""
    case = draw.conv_case(i, **(EXAMPLES[i] if i < len(EXAMPLES) else {}))
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

    arg_names = ("input", "weight", "grad_output")
    references = (*ref.MODELS, *ref.AUTOGRAD)
    parts = ("grad_input", "grad_weight", "grad_bias")

    def make_cases(self, draw, n):
        for i in range(n):
            x, weight, _, stride, padding, grad_output = _draw_conv(draw, i)
            kwargs = {}
            if stride != 1:
                kwargs["stride"] = stride
            if padding != 0:
                kwargs["padding"] = padding
            yield Case((x, weight, grad_output), kwargs)

    def reference(self, input, weight, grad_output, stride=1, padding=0):
        bias = torch.zeros(weight.shape[0], dtype=weight.dtype)
        _, grads = autograd_gradients(input, weight, bias, grad_output, stride, padding)
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
    references = (*ref.MODELS, *ref.AUTOGRAD)
    parts = ("output", "grad_input", "grad_weight", "grad_bias")

    def make_cases(self, draw, n):
        for i in range(n):
            x, weight, bias, stride, padding, grad_output = _draw_conv(draw, i)
            yield Case((x, weight, bias, grad_output, stride, padding))

    def reference(self, input, weight, bias, grad_output, stride, padding):
        out, grads = autograd_gradients(input, weight, bias, grad_output, stride, padding)
        return (out,) + grads

    def mistakes(self, input, weight, bias, grad_output, stride, padding):
        out, *grads = self.reference(input, weight, bias, grad_output, stride, padding)
        if bias is not None:
            yield "bias left out of the forward pass", (out - bias.reshape(1, -1, 1, 1), *grads)

    def prepare(self, fn):
        if not (isinstance(fn, type) and issubclass(fn, torch.autograd.Function)):
            raise CheckFailed(f"{self.name}: pass your class Conv2dFunction itself (a torch.autograd.Function "
                              f"subclass), got {type(fn).__name__}.")

        def forward_and_backward(input, weight, bias, grad_output, stride, padding):
            leaves = [input.requires_grad_(), weight.requires_grad_()]
            if bias is not None:
                leaves.append(bias.requires_grad_())
            out = fn.apply(input, weight, bias, stride, padding)
            if type(out) is not torch.Tensor:
                return out
            if not out.requires_grad:
                raise TypeError("the output does not require grad: return the result of forward, computed from "
                                "its inputs")
            backward(out, grad_output)
            return (out,) + tuple(leaf.grad for leaf in leaves)

        return forward_and_backward


conv2d_backward = Conv2dBackward()
conv2d_function = Conv2dFunctionCheck()


# -- check your understanding ----------------------------------------------------------------
grad_weight_shape = Question(
    lambda: (16, 3, 5, 5),
    slips=(("the output's shape: a gradient has the shape of what it is the gradient of",
            lambda: (8, 16, *shapes.conv_output_shape((32, 32), 5))),
           ("the input's shape: a gradient has the shape of what it is the gradient of", lambda: (8, 3, 32, 32))))
uses_per_pixel = Question(
    lambda: 3 * 3,
    slips=(("one: every window that covers the pixel uses it, and 3 x 3 of them do", lambda: 1),
           ("one row of windows only", lambda: 3)))
grad_input_output_padding = Question(
    lambda: 6 - shapes.conv_transpose_output_size(shapes.conv_output_size(6, 3, 2), 3, 2),
    slips=(("the transposed convolution gives 5 without it: the stride dropped a row", lambda: 0),))

"""Checks for lesson 10 (backpropagation): conv2d_backward and a Conv2dFunction, against torch.autograd."""
import torch
import torch.nn.functional as F

from convlab.checks import references as ref
from convlab.checks.core import Case, CheckFailed, NamedParts
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


def _draw_conv(draw, i, with_bias):
    """A random conv2d setting: (input, weight, bias or None, stride, padding), shapes kept small."""
    dtype = draw.dtype(i)
    n, c_in, c_out = draw.int(1, 3), draw.int(1, 3), draw.int(1, 4)
    kh, kw = draw.int(1, 3), draw.int(1, 3)
    stride = (draw.int(1, 3), draw.int(1, 2)) if i % 3 == 1 else draw.int(1, 2)
    padding = (draw.int(0, 2), draw.int(0, 1)) if i % 3 == 2 else draw.int(0, 1)
    h, w = kh + draw.int(0, 5), kw + draw.int(0, 5)
    if i == 0:  # the lesson's example: (2, 3, 5, 5) -> (2, 4, 3, 3)
        n, c_in, c_out, h, w, kh, kw, stride, padding = 2, 3, 4, 5, 5, 3, 3, 1, 0
    elif i == 1:  # a stride that skips the last row and column: output_padding needed
        n, c_in, c_out, h, w, kh, kw, stride, padding = 2, 2, 3, 6, 7, 3, 2, 2, 0
    x = draw.randn(n, c_in, h, w, dtype=dtype)
    weight = draw.randn(c_out, c_in, kh, kw, dtype=dtype)
    bias = draw.randn(c_out, dtype=dtype) if with_bias else None
    return x, weight, bias, stride, padding


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
            x, weight, _, stride, padding = _draw_conv(draw, i, False)
            out_shape = F.conv2d(torch.empty(x.shape, device="meta"), torch.empty(weight.shape, device="meta"),
                                 stride=stride, padding=padding).shape
            grad_output = draw.randn(*out_shape, dtype=x.dtype)
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
            with_bias = i % 3 != 2
            x, weight, bias, stride, padding = _draw_conv(draw, i, with_bias)
            out_shape = F.conv2d(torch.empty(x.shape, device="meta"), torch.empty(weight.shape, device="meta"),
                                 stride=stride, padding=padding).shape
            grad_output = draw.randn(*out_shape, dtype=x.dtype)
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

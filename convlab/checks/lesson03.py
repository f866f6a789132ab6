"""Checks for lesson 03 (channels): multi-input, multi-output, batched conv2d, parameter counts."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import FLIPPED, NOT_SUMMED, conv2d_mistakes, pair
from convlab.i18n import N_


class Corr2dMultiIn(Exercise):
    """corr2d_multi_in(X, K): X (C, H, W), K (C, kh, kw) -> (H', W'), channels summed."""

    references = ref.CONVOLUTION

    def make_case(self, draw, i):
        c, h, w = draw.int(2, 4), draw.int(3, 9), draw.int(3, 9)
        kh, kw = draw.int(1, min(3, h)), draw.int(1, min(3, w))
        return Case((draw.randn(c, h, w, dtype=draw.dtype(i)), draw.randn(c, kh, kw, dtype=draw.dtype(i))))

    def reference(self, X, K):
        return F.conv2d(X[None], K[None])[0, 0]  # (1, C, H, W) * (1, C, kh, kw) -> (H', W')

    def mistakes(self, X, K):
        per_channel = F.conv2d(X[None], K[:, None], groups=X.shape[0])[0]  # (C, H', W')
        yield NOT_SUMMED, per_channel
        yield FLIPPED, F.conv2d(X[None], K[None].flip(-2, -1))[0, 0]
        yield N_("only the first channel used — sum over all input channels"), per_channel[0]
        yield N_("channels averaged — sum them, do not divide by the number of channels"), per_channel.mean(0)


class Corr2dMultiInOut(Exercise):
    """corr2d_multi_in_out(X, K): X (C_in, H, W), K (C_out, C_in, kh, kw) -> (C_out, H', W')."""

    references = ref.CONVOLUTION

    examples = ({"c_in": 2},)  # the lesson's two input channels

    def make_case(self, draw, i):
        c_in, c_out, h, w = draw.int(1, 3), draw.int(2, 4), draw.int(3, 8), draw.int(3, 8)
        c_in = self.example(i).get("c_in", c_in)
        kh, kw = draw.int(1, min(3, h)), draw.int(1, min(3, w))
        return Case((draw.randn(c_in, h, w, dtype=draw.dtype(i)),
                    draw.randn(c_out, c_in, kh, kw, dtype=draw.dtype(i))))

    def reference(self, X, K):
        return F.conv2d(X[None], K)[0]  # (1, C_in, H, W) -> (C_out, H', W')

    def mistakes(self, X, K):
        for label, wrong in conv2d_mistakes(X[None], K):
            yield label, wrong[0]
        yield (N_("output channels summed — stack one output channel per kernel instead"),
               F.conv2d(X[None], K)[0].sum(0))


class Conv2d(Exercise):
    """conv2d(input, weight, bias=None, stride=1, padding=0): NCHW input."""

    references = ref.CONVOLUTION
    examples = ({"batch": 2, "in_channels": 3, "stride": 2, "padding": 1},)  # case 1: a batch, RGB-like

    def make_case(self, draw, i):
        return draw.conv_case(i, **self.example(i))

    def reference(self, input, weight, bias=None, stride=1, padding=0):
        return F.conv2d(input, weight, bias, stride=stride, padding=padding)

    def mistakes(self, input, weight, bias=None, stride=1, padding=0):
        yield from conv2d_mistakes(input, weight, bias, stride, padding)


def _torch_parameter_count(in_channels, out_channels, kernel_size, bias):
    layer = torch.nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias, device="meta")
    return sum(p.numel() for p in layer.parameters())


class CountParameters(Exercise):
    """count_parameters(in_channels, out_channels, kernel_size, bias=True) -> int."""

    references = ("convlab.shapes.conv_parameter_count",)
    default_cases = 6

    examples = ({"c_in": 3, "c_out": 10, "k": 5},)  # the lesson's: 3 -> 10 channels, 5x5

    def make_case(self, draw, i):
        c_in, c_out = draw.int(1, 64), draw.int(1, 64)
        k = (draw.int(1, 7), draw.int(1, 7)) if i % 3 == 1 else draw.int(1, 7)
        c_in, c_out, k = self.with_example(i, c_in=c_in, c_out=c_out, k=k)
        kwargs = {} if i % 3 == 0 else {"bias": i % 3 == 1}
        return Case((c_in, c_out, k), kwargs)

    def reference(self, in_channels, out_channels, kernel_size, bias=True):
        return _torch_parameter_count(in_channels, out_channels, kernel_size, bias)

    def mistakes(self, in_channels, out_channels, kernel_size, bias=True):
        kh, kw = pair(kernel_size)
        weights = in_channels * out_channels * kh * kw
        if bias:
            yield N_("bias not counted — one bias per output channel"), weights
            yield N_("one bias per input channel counted — it is one per output channel"), weights + in_channels
        else:
            yield N_("bias counted although bias=False"), weights + out_channels
        extra = out_channels if bias else 0
        yield (N_("in_channels left out — each kernel has in_channels x kh x kw weights"),
               out_channels * kh * kw + extra)
        if not isinstance(kernel_size, tuple):
            yield (N_("kernel_size counted once — a kernel_size k kernel has k x k weights per channel pair"),
                   in_channels * out_channels * kh + extra)


corr2d_multi_in = Corr2dMultiIn()
corr2d_multi_in_out = Corr2dMultiInOut()
conv2d = Conv2d()
count_parameters = CountParameters()


# -- check your understanding ----------------------------------------------------------------
weight_shape = Question(
    lambda: (32, 16, 3, 3),
    slips=((N_("input and output channels swapped: a weight is (out, in, kh, kw)"), lambda: (16, 32, 3, 3)),
           (N_("the input channels left out: each filter spans all 16 of them"), lambda: (32, 3, 3))))
layer_parameters = Question(
    lambda: shapes.conv_parameter_count(64, 128, (3, 3)),
    slips=((N_("the bias not counted: one per output channel"),
            lambda: shapes.conv_parameter_count(64, 128, (3, 3), bias=False)),
           (N_("the input channels not counted: each filter is 64 x 3 x 3"),
            lambda: shapes.conv_parameter_count(1, 128, (3, 3))),
           (N_("one bias per input channel: there is one per output channel"),
            lambda: shapes.conv_parameter_count(64, 128, (3, 3), bias=False) + 64)))
batch_output_shape = Question(
    lambda: (4, 16, *shapes.conv_output_shape((64, 48), (3, 5), padding=1)),
    slips=((N_("padding ignored"), lambda: (4, 16, *shapes.conv_output_shape((64, 48), (3, 5)))),
           (N_("the kernel's height and width swapped: (3, 5) is 3 rows by 5 columns"),
            lambda: (4, 16, *shapes.conv_output_shape((64, 48), (5, 3), padding=1))),
           (N_("the input's 3 channels kept: the output has 16, one per filter"),
            lambda: (4, 3, *shapes.conv_output_shape((64, 48), (3, 5), padding=1)))))

"""Checks for lesson 04 (1x1 convolution): a 1x1 convolution written as a matrix multiplication,
and the cost of a bottleneck block."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import BIAS_MISSING
from convlab.i18n import N_


class Conv1x1AsMatmul(Exercise):
    """conv1x1_as_matmul(input, weight, bias=None): weight (C_out, C_in, 1, 1); torch's conv banned."""

    references = ref.CONVOLUTION

    examples = ({"batch": 2, "in_channels": 3, "out_channels": 3},)

    def make_case(self, draw, i):
        return draw.conv_case(i, ("bias",), kernel_size=1, **self.example(i))

    def reference(self, input, weight, bias=None):
        return F.conv2d(input, weight, bias)

    def mistakes(self, input, weight, bias=None):
        if bias is not None:
            yield BIAS_MISSING, F.conv2d(input, weight)
        if weight.shape[0] == weight.shape[1]:
            yield (N_("weight transposed — output channel o is weight[o, :, 0, 0] @ the input's channels"),
                   F.conv2d(input, weight.transpose(0, 1), bias))
        yield (N_("spatial positions mixed — reshape (N, C, H, W) to (N, C, H*W), multiply, "
                  "then back to (N, C_out, H, W)"),
               F.conv2d(input, weight, bias).transpose(-2, -1).reshape(F.conv2d(input, weight).shape))


def _layers(channels, width):
    """(in, out, kernel) of a bottleneck block: 1x1 down to `width`, 3x3 at it (padding 1), 1x1 back up."""
    return [(channels, width, 1), (width, width, 3), (width, channels, 1)]


def _cost(layers, size):
    """(parameters with biases, multiply-adds on one size x size input) of stride-1 'same' layers, from torch's own
    parameter count."""
    params = sum(p.numel() for i, o, k in layers for p in torch.nn.Conv2d(i, o, k, device="meta").parameters())
    return params, sum(i * o * k * k * size * size for i, o, k in layers)


class BottleneckCost(Exercise):
    """bottleneck_cost(channels, width, size) -> (parameters, multiply-adds) of 1x1 down, 3x3, 1x1 up, with biases."""

    default_cases = 8

    examples = ({"channels": 256, "width": 64, "size": 28},)  # the lesson's ResNet block

    def make_case(self, draw, i):
        channels = 16 * draw.int(1, 16)
        return Case(self.with_example(i, channels=channels, width=max(1, channels // draw.choice([2, 4, 8])),
                                      size=draw.int(4, 56)))

    def reference(self, channels, width, size):
        return _cost(_layers(channels, width), size)

    def mistakes(self, channels, width, size):
        params, macs = _cost(_layers(channels, width), size)
        yield N_("biases not counted — each layer has one per output channel"), (params - 2 * width - channels, macs)
        yield (N_("the 3x3 counted at the full width — it runs on the narrow one"),
               _cost([(channels, width, 1), (channels, channels, 3), (width, channels, 1)], size))
        yield N_("the last 1x1 (back up to the full width) left out"), _cost(_layers(channels, width)[:2], size)
        yield N_("multiply-adds of one output pixel — each of the size x size pixels costs as much"), (
            params, macs // (size * size))


conv1x1_as_matmul = Conv1x1AsMatmul()
bottleneck_cost = BottleneckCost()


# -- check your understanding ----------------------------------------------------------------
pointwise_parameters = Question(
    lambda: shapes.conv_parameter_count(256, 64, (1, 1)),
    slips=((N_("the bias not counted: one per output channel"),
            lambda: shapes.conv_parameter_count(256, 64, (1, 1), bias=False)),
           (N_("one bias per input channel: there is one per output channel"),
            lambda: shapes.conv_parameter_count(256, 64, (1, 1), bias=False) + 256)))
pointwise_shape = Question(
    lambda: (5, 2, *shapes.conv_output_shape((7, 9), 1)),
    slips=((N_("a 1x1 kernel does not shrink the map"), lambda: (5, 2, 6, 8)),
           (N_("the channels kept: the output has one channel per filter"), lambda: (5, 3, 7, 9))))
pointwise_macs = Question(
    lambda: shapes.conv_macs(64, 256, (1, 1), (28, 28)),
    slips=((N_("the positions not counted: each of the 28 x 28 outputs costs 64 x 256"), lambda: 64 * 256),
           (N_("one output channel only: there are 256"), lambda: shapes.conv_macs(64, 1, (1, 1), (28, 28)))))

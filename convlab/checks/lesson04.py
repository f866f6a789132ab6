"""Checks for lesson 04 (1x1 convolution): a 1x1 convolution written as a matrix multiplication."""
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import BIAS_MISSING


class Conv1x1AsMatmul(Exercise):
    """conv1x1_as_matmul(input, weight, bias=None): weight (C_out, C_in, 1, 1); torch's conv banned."""

    arg_names = ("input", "weight")
    references = ref.CONVOLUTION

    def make_cases(self, draw, n):
        for i in range(n):
            example = {"batch": 2, "in_channels": 3, "out_channels": 3} if i == 0 else {}
            yield draw.conv_case(i, ("bias",), kernel_size=1, **example)

    def reference(self, input, weight, bias=None):
        return F.conv2d(input, weight, bias)

    def mistakes(self, input, weight, bias=None):
        if bias is not None:
            yield BIAS_MISSING, F.conv2d(input, weight)
        if weight.shape[0] == weight.shape[1]:
            yield ("weight transposed — output channel o is weight[o, :, 0, 0] @ the input's channels",
                   F.conv2d(input, weight.transpose(0, 1), bias))
        yield ("spatial positions mixed — reshape (N, C, H, W) to (N, C, H*W), multiply, "
               "then back to (N, C_out, H, W)",
               F.conv2d(input, weight, bias).transpose(-2, -1).reshape(F.conv2d(input, weight).shape))


conv1x1_as_matmul = Conv1x1AsMatmul()


# -- check your understanding ----------------------------------------------------------------
pointwise_parameters = Question(
    lambda: shapes.conv_parameter_count(256, 64, (1, 1)),
    slips=(("the bias not counted: one per output channel",
            lambda: shapes.conv_parameter_count(256, 64, (1, 1), bias=False)),
           ("one bias per input channel: there is one per output channel",
            lambda: shapes.conv_parameter_count(256, 64, (1, 1), bias=False) + 256)))
pointwise_shape = Question(
    lambda: (5, 2, *shapes.conv_output_shape((7, 9), 1)),
    slips=(("a 1x1 kernel does not shrink the map", lambda: (5, 2, 6, 8)),
           ("the channels kept: the output has one channel per filter", lambda: (5, 3, 7, 9))))
pointwise_macs = Question(
    lambda: shapes.conv_macs(64, 256, (1, 1), (28, 28)),
    slips=(("the positions not counted: each of the 28 x 28 outputs costs 64 x 256", lambda: 64 * 256),
           ("one output channel only: there are 256", lambda: shapes.conv_macs(64, 1, (1, 1), (28, 28)))))

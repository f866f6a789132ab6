"""Checks for lesson 04 (1x1 convolution): a 1x1 convolution written as a matrix multiplication."""
import torch.nn.functional as F

from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.variants import BIAS_MISSING


class Conv1x1AsMatmul(Exercise):
    """conv1x1_as_matmul(input, weight, bias=None): weight (C_out, C_in, 1, 1); torch's conv banned."""

    arg_names = ("input", "weight")
    references = ref.CONVOLUTION

    def make_cases(self, draw, n):
        for i in range(n):
            batch, c_in, c_out = draw.int(1, 3), draw.int(1, 5), draw.int(1, 5)
            if i == 0:
                batch, c_in, c_out = 2, 3, 3
            h, w = draw.int(1, 7), draw.int(1, 7)
            dtype = draw.dtype(i)
            kwargs = {"bias": draw.randn(c_out, dtype=dtype)} if i % 2 == 1 else {}
            yield Case((draw.randn(batch, c_in, h, w, dtype=dtype), draw.randn(c_out, c_in, 1, 1, dtype=dtype)),
                       kwargs)

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

"""Checks for lesson 12 (convolution in 1D and 3D): conv1d and conv3d, the same window along one or three axes."""
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import BIAS_MISSING, FLIPPED, PADDING_IGNORED, STRIDE_IGNORED, attempt
from convlab.i18n import N_


class _ConvNd(Exercise):
    """The shared check of conv1d and conv3d: (N, C_in, *spatial) input, weight (C_out, C_in, *k), bias, stride,
    padding (ints)."""

    arg_names = ("input", "weight")
    references = ref.CONVOLUTION
    dims = 1

    def torch_conv(self, *args, **kwargs):
        return (F.conv1d if self.dims == 1 else F.conv3d)(*args, **kwargs)

    def make_case(self, draw, i):
        c_in, c_out, batch = draw.int(1, 3), draw.int(1, 3), draw.int(1, 2)
        kernel = [draw.int(1, 3) for _unused in range(self.dims)]
        size = [k + draw.int(0, 4 if self.dims == 3 else 9) for k in kernel]
        kwargs = {}
        if i % 2 == 0:
            kwargs["bias"] = draw.randn(c_out, dtype=draw.dtype(i))
        if i % 4 == 1 or draw.bool():
            kwargs["stride"] = draw.int(2, 3)
        if i % 4 == 2 or draw.bool():
            kwargs["padding"] = draw.int(1, 2)
        return Case((draw.randn(batch, c_in, *size, dtype=draw.dtype(i)),
                    draw.randn(c_out, c_in, *kernel, dtype=draw.dtype(i))), kwargs)

    def reference(self, input, weight, bias=None, stride=1, padding=0):
        return self.torch_conv(input, weight, bias, stride, padding)

    def mistakes(self, input, weight, bias=None, stride=1, padding=0):
        axes = tuple(range(2, 2 + self.dims))
        yield FLIPPED, attempt(lambda: self.torch_conv(input, weight.flip(axes), bias, stride, padding))
        if bias is not None:
            yield BIAS_MISSING, attempt(lambda: self.torch_conv(input, weight, None, stride, padding))
        if stride != 1:
            yield STRIDE_IGNORED, attempt(lambda: self.torch_conv(input, weight, bias, 1, padding))
        if padding != 0:
            yield PADDING_IGNORED, attempt(lambda: self.torch_conv(input, weight, bias, stride, 0))


class Conv1d(_ConvNd):
    """conv1d(input, weight, bias=None, stride=1, padding=0): input (N, C_in, L), weight (C_out, C_in, k)."""

    dims = 1


class Conv3d(_ConvNd):
    """conv3d(input, weight, bias=None, stride=1, padding=0): input (N, C_in, D, H, W), weight (C_out, C_in, kd, kh, kw)."""

    dims = 3


conv1d = Conv1d()
conv3d = Conv3d()


# -- check your understanding ----------------------------------------------------------------
signal_length = Question(
    lambda: shapes.conv_output_size(16, 3),
    slips=((N_("the +1 forgotten: a length-n signal has n - k + 1 positions for a k-tap kernel"), lambda: 16 - 3),
           (N_("the input's length: a kernel longer than 1 makes the output shorter"), lambda: 16)))
clip_shape = Question(
    lambda: (1, 8, *shapes.conv_output_shape((8, 32, 32), 3, padding=1)),
    slips=((N_("padding ignored: padding 1 keeps each of the three sizes"),
            lambda: (1, 8, *shapes.conv_output_shape((8, 32, 32), 3))),
           (N_("the input's 3 channels kept: the output has one channel per filter"), lambda: (1, 3, 8, 32, 32)),
           (N_("the time axis dropped: a 3D convolution keeps the depth axis"), lambda: (1, 8, 32, 32))))
factorised_parameters = Question(
    lambda: (shapes.conv_parameter_count(16, 16, (1, 3, 3), bias=False)
             + shapes.conv_parameter_count(16, 16, (3, 1, 1), bias=False)),
    slips=((N_("that is the full 3x3x3 layer: the pair holds 9C² + 3C² weights, not 27C²"),
            lambda: shapes.conv_parameter_count(16, 16, (3, 3, 3), bias=False)),
           (N_("the temporal 3x1x1 layer left out"),
            lambda: shapes.conv_parameter_count(16, 16, (1, 3, 3), bias=False)),
           (N_("biases counted: the question asks for weights"),
            lambda: shapes.conv_parameter_count(16, 16, (1, 3, 3)) + shapes.conv_parameter_count(16, 16, (3, 1, 1)))))

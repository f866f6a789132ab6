"""Checks for lesson 08 (groups, depthwise and separable): grouped conv2d, channel shuffle, depthwise-separable
conv, rank-1 kernel split."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.guard import KERNEL_OPS, SHUFFLE_OPS
from convlab.checks.problems import Kind, Problem
from convlab.checks.questions import Question
from convlab.checks.variants import conv2d_mistakes
from convlab.i18n import N_, _

GROUPS_IGNORED = N_("groups ignored — output channel o may only read the input channels of its own group")


class Conv2dGroups(Exercise):
    """conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): NCHW input."""

    references = ref.GROUPED_CONVOLUTION

    examples = ({"batch": 2, "in_channels": 4, "out_channels": 4, "groups": 2},  # the lesson's 4 channels in 2 groups
                {"groups": 3})

    def make_case(self, draw, i):
        return draw.conv_case(i, ("bias", "stride", "padding", "dilation", "groups"), **self.example(i))

    def reference(self, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        return F.conv2d(input, weight, bias, stride, padding, dilation, groups)

    def mistakes(self, input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        if groups > 1:
            # every output channel reading all groups, with its weight repeated across them
            yield GROUPS_IGNORED, F.conv2d(input, weight.repeat(1, groups, 1, 1), bias, stride, padding, dilation)
            c_in = input.shape[1]
            # slices paired wrongly: group j's weights on another group's inputs
            rolled = input.roll(c_in // groups, dims=1)
            yield (N_("groups paired wrongly — slice j of the weight goes with slice j of the input channels"),
                   F.conv2d(rolled, weight, bias, stride, padding, dilation, groups))
        yield from conv2d_mistakes(input, weight, bias, stride, padding, dilation, groups)


class ChannelShuffle(Exercise):
    """channel_shuffle(input, groups): (N, C, H, W), C = groups * (C / groups); torch's channel_shuffle banned."""

    banned = KERNEL_OPS | SHUFFLE_OPS

    examples = ({"groups": 2, "per_group": 3},)  # the lesson's picture: 6 channels in 2 groups

    def make_case(self, draw, i):
        groups, per_group = self.with_example(i, groups=draw.int(2, 4), per_group=draw.int(2, 4))
        x = draw.randn(draw.int(1, 2), groups * per_group, draw.int(1, 4), draw.int(1, 4), dtype=draw.dtype(i))
        return Case((x, groups))

    def reference(self, input, groups):
        return F.channel_shuffle(input, groups)

    def mistakes(self, input, groups):
        channels = input.shape[1]
        yield (N_("groups and channels per group swapped — view C as (groups, C / groups), then swap those two"),
               F.channel_shuffle(input, channels // groups))
        yield N_("nothing shuffled — the channels come back in their order"), input.clone()
        yield N_("the batch shuffled — the channels are dimension 1"), input.flip(0)


class DepthwiseSeparableConv(Exercise):
    """depthwise_separable_conv(input, depthwise_weight, pointwise_weight, stride=1, padding=0)."""

    references = ref.MODELS

    examples = ({"batch": 2, "c_in": 3, "c_out": 5, "kh": 3, "kw": 3, "h": 6, "w": 7},)

    def make_case(self, draw, i):
        dtype = draw.dtype(i)
        batch, c_in, c_out = draw.int(1, 3), draw.int(1, 4), draw.int(1, 5)
        multiplier = 2 if i % 4 == 2 else 1
        kh, kw = draw.int(1, 3), draw.int(1, 3)
        batch, c_in, c_out, kh, kw, h, w = self.with_example(
            i, batch=batch, c_in=c_in, c_out=c_out, kh=kh, kw=kw, h=kh + draw.int(0, 5), w=kw + draw.int(0, 5))
        kwargs = {}
        if i % 3 == 1 or draw.bool():
            kwargs["stride"] = (draw.int(1, 2), draw.int(1, 3)) if draw.bool() else 2
        if i % 3 == 2 or draw.bool():
            kwargs["padding"] = (draw.int(0, 2), draw.int(0, 1)) if draw.bool() else 1
        return Case((draw.randn(batch, c_in, h, w, dtype=dtype),
                    draw.randn(c_in * multiplier, 1, kh, kw, dtype=dtype),
                    draw.randn(c_out, c_in * multiplier, 1, 1, dtype=dtype)), kwargs)

    def reference(self, input, depthwise_weight, pointwise_weight, stride=1, padding=0):
        spatial = F.conv2d(input, depthwise_weight, None, stride, padding, 1, input.shape[1])
        return F.conv2d(spatial, pointwise_weight)

    def mistakes(self, input, depthwise_weight, pointwise_weight, stride=1, padding=0):
        c = input.shape[1]
        yield (N_("stride or padding applied in the pointwise step — they belong to the depthwise (spatial) step"),
               F.conv2d(F.conv2d(input, depthwise_weight, groups=c), pointwise_weight, stride=stride,
                        padding=padding))
        if c > 1 and depthwise_weight.shape[0] == c:
            yield (N_("depthwise step mixed channels — use groups = number of input channels"),
                   F.conv2d(F.conv2d(input, depthwise_weight.expand(c, c, *depthwise_weight.shape[2:]), None,
                                     stride, padding).contiguous(), pointwise_weight))
        yield (N_("kernel flipped — cross-correlate, as F.conv2d does"),
               F.conv2d(F.conv2d(input, depthwise_weight.flip(-2, -1), None, stride, padding, 1, c), pointwise_weight))


RAISED_VALUE_ERROR = -1   # what the wrapped call returns when the learner's function raised ValueError


SOBEL = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64)  # the lesson's edge kernel


def _kernel_of_rank(draw, kh, kw, rank):
    """A random (kh, kw) float64 kernel with exactly `rank` clearly non-zero singular values."""
    U, _unused, Vh = torch.linalg.svd(draw.randn(kh, kw, dtype=torch.float64), full_matrices=False)
    size = min(kh, kw)
    values = torch.zeros(size, dtype=torch.float64)
    values[0] = 1.0 + 2.0 * abs(float(draw.randn(1, dtype=torch.float64)))
    if rank > 1:
        values[1] = values[0] * (0.3 + 0.2 * abs(float(draw.randn(1, dtype=torch.float64))))
    return (U * values) @ Vh  # (kh, kw)


class SeparableKernel(Exercise):
    """separable_kernel(kernel) -> (column, row): column (kh, 1) @ row (1, kw) == kernel; ValueError if rank > 1.

    A rank-1 kernel has many factorisations (c·t, r/t), so an answer is judged by the kernel its
    factors rebuild, after their shapes are checked; a kernel of rank 2 must raise ValueError.
    """

    references = ref.MODELS
    output_label = N_("column @ row")  # the kernel the factors rebuild is what is compared
    default_cases = 6
    use_meta = False       # deciding the rank reads values

    examples = ({"kh": 3, "kw": 3, "kernel": SOBEL},)

    def make_case(self, draw, i):
        kh, kw = self.with_example(i, kh=draw.int(1, 5), kw=draw.int(1, 5))
        if i % 3 == 2:
            kh, kw = max(kh, 2), max(kw, 2)
        (kernel,) = self.with_example(i, kernel=_kernel_of_rank(draw, kh, kw, 2 if i % 3 == 2 else 1))
        return Case((kernel.to(draw.dtype(i)),))

    def reference(self, kernel):
        values = torch.linalg.svdvals(kernel)
        if len(values) > 1 and values[1] > 1e-3 * values[0]:
            return RAISED_VALUE_ERROR
        return kernel    # what column @ row must rebuild

    def call(self, fn, case, index, device):
        """Run the learner's split; the judged output is column @ row, or RAISED_VALUE_ERROR."""
        def rebuilt(kernel):
            try:
                out = fn(kernel)
            except ValueError:
                return RAISED_VALUE_ERROR
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError(_("should return (column, row), got {got}").format(got=type(out).__name__))
            column, row = out
            for label, part, shape in (("column", column, (kernel.shape[0], 1)), ("row", row, (1, kernel.shape[1]))):
                if type(part) is not torch.Tensor:
                    raise TypeError(_("{label} should be a torch.Tensor, got {got}").format(
                        label=label, got=type(part).__name__))
                if tuple(part.shape) != shape:
                    raise TypeError(_("{label} should have shape {shape}, got {got}").format(
                        label=label, shape=shape, got=tuple(part.shape)))
            return torch.matmul(column, row)
        return super().call(rebuilt, case, index, device)

    def judge_output(self, run, case, ref, where=None):
        raised = type(run.output) is int and run.output == RAISED_VALUE_ERROR
        if type(ref) is int:
            return None if raised else Problem(Kind.NO_EXCEPTION, _(
                "returned factors for a kernel of rank 2; raise ValueError when the kernel's rank is more than 1."))
        if raised:
            return Problem(Kind.EXCEPTION, _("raised ValueError for a rank-1 kernel: only kernels of rank more than 1 "
                                             "are not separable."))
        return super().judge_output(run, case, ref, where)


conv2d = Conv2dGroups()
channel_shuffle = ChannelShuffle()
depthwise_separable_conv = DepthwiseSeparableConv()
separable_kernel = SeparableKernel()


# -- check your understanding ----------------------------------------------------------------
standard_parameters = Question(
    lambda: shapes.conv_parameter_count(32, 64, (3, 3), bias=False),
    slips=((N_("a bias counted: these layers have none"),
            lambda: shapes.conv_parameter_count(32, 64, (3, 3))),))
separable_parameters = Question(
    lambda: (shapes.conv_parameter_count(32, 32, (3, 3), groups=32, bias=False)
             + shapes.conv_parameter_count(32, 64, (1, 1), bias=False)),
    slips=((N_("the 1x1 pointwise part left out"), lambda: shapes.conv_parameter_count(32, 32, (3, 3), groups=32,
                                                                                    bias=False)),
           (N_("the 3x3 depthwise part left out"), lambda: shapes.conv_parameter_count(32, 64, (1, 1), bias=False)),
           (N_("the depthwise part counted as a full convolution: each of its filters sees one channel"),
            lambda: shapes.conv_parameter_count(32, 32, (3, 3), bias=False)
            + shapes.conv_parameter_count(32, 64, (1, 1), bias=False))))
grouped_parameters = Question(
    lambda: shapes.conv_parameter_count(16, 32, (3, 3), groups=4, bias=False),
    slips=((N_("groups ignored: each filter sees C_in / g = 4 channels"),
            lambda: shapes.conv_parameter_count(16, 32, (3, 3), bias=False)),
           (N_("divided by g twice: there are still 32 filters, each of 4 x 3 x 3"),
            lambda: shapes.conv_parameter_count(16, 32, (3, 3), groups=4, bias=False) // 4),
           (N_("a bias counted: these layers have none"),
            lambda: shapes.conv_parameter_count(16, 32, (3, 3), groups=4))))

"""Checks for lesson 05 (dilation and receptive field): dilated conv2d, receptive_field."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import conv2d_mistakes
from convlab.i18n import N_


class Conv2d(Exercise):
    """conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1): NCHW input."""

    references = ref.CONVOLUTION

    examples = ({"batch": 1, "in_channels": 1, "out_channels": 1, "size": (7, 7), "kernel_size": 3,
                 "stride": 1, "padding": 0, "dilation": 2},)  # the lesson's: (1, 1, 7, 7) -> (1, 1, 3, 3)

    def make_case(self, draw, i):
        return draw.conv_case(i, ("bias", "stride", "padding", "dilation"), **self.example(i))

    def reference(self, input, weight, bias=None, stride=1, padding=0, dilation=1):
        return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation)

    def mistakes(self, input, weight, bias=None, stride=1, padding=0, dilation=1):
        yield from conv2d_mistakes(input, weight, bias, stride, padding, dilation)


def measured_receptive_field(kernel_sizes, strides=None, dilations=None) -> int:
    """Span of the input positions that reach one output, found by backpropagating through torch convs."""
    strides = [1] * len(kernel_sizes) if strides is None else list(strides)
    dilations = [1] * len(kernel_sizes) if dilations is None else list(dilations)
    length = 1  # one output of the last layer; walk back to the input length it needs
    for k, s, d in reversed(list(zip(kernel_sizes, strides, dilations))):
        length = (length - 1) * s + d * (k - 1) + 1
    x = torch.zeros(1, 1, length + 1, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, d in zip(kernel_sizes, strides, dilations):
        y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    y[0, 0, 0].backward()
    reached = torch.nonzero(x.grad[0, 0]).flatten()
    return int(reached.max() - reached.min() + 1)


class ReceptiveField(Exercise):
    """receptive_field(kernel_sizes, strides=None, dilations=None) -> int."""

    references = ("convlab.shapes.receptive_field",)
    default_cases = 8

    def make_case(self, draw, i):
        layers = draw.int(1, 4)
        if i == 0:
            return Case(([3, 3],))
        ks = [draw.int(1, 5) for _unused in range(layers)]
        kwargs = {}
        if i % 3 != 0:
            kwargs["strides"] = [draw.int(1, 3) for _unused in range(layers)]
        if i % 3 != 1:
            kwargs["dilations"] = [draw.int(1, 3) for _unused in range(layers)]
        if i == 1:
            ks, kwargs = [3, 3], {"strides": [2, 1]}
        return Case((ks,), kwargs)

    def reference(self, kernel_sizes, strides=None, dilations=None):
        return measured_receptive_field(kernel_sizes, strides, dilations)

    def mistakes(self, kernel_sizes, strides=None, dilations=None):
        ks = list(kernel_sizes)
        ss = [1] * len(ks) if strides is None else list(strides)
        ds = [1] * len(ks) if dilations is None else list(dilations)

        def formula(use_stride=True, use_dilation=True, jump_first=False):
            field, jump = 1, 1
            for k, s, d in zip(ks, ss, ds):
                if jump_first and use_stride:
                    jump *= s
                field += (d if use_dilation else 1) * (k - 1) * jump
                if not jump_first and use_stride:
                    jump *= s
            return field

        yield N_("strides ignored — each layer's growth is multiplied by the product of earlier strides"), \
            formula(use_stride=False)
        yield N_("dilation ignored — a dilated kernel spans d(k - 1) + 1 positions"), formula(use_dilation=False)
        yield N_("a layer's own stride counted — only the strides of earlier layers multiply its growth"), \
            formula(jump_first=True)
        yield N_("kernel sizes added — stacking adds k - 1 per layer (times the jump), not k"), sum(ks)


conv2d = Conv2d()
receptive_field = ReceptiveField()


# -- check your understanding ----------------------------------------------------------------
effective_size = Question(
    lambda: shapes.effective_kernel_size(5, 3),
    slips=((N_("d x k: the gaps lie between the taps, d(k - 1) + 1"), lambda: 5 * 3),
           (N_("dilation ignored"), lambda: 5),
           (N_("k + d: each of the k - 1 gaps grows by d - 1, k + (k - 1)(d - 1)"), lambda: 5 + 3)))
dilated_shape = Question(
    lambda: (2, 8, *shapes.conv_output_shape((32, 32), 3, padding=4, dilation=4)),
    slips=((N_("dilation ignored: a 3-tap kernel with dilation 4 spans 9 inputs"),
            lambda: (2, 8, *shapes.conv_output_shape((32, 32), 3, padding=4))),
           (N_("padding ignored"), lambda: (2, 8, *shapes.conv_output_shape((32, 32), 3, dilation=4))),
           (N_("the input's 4 channels kept"), lambda: (2, 4, *shapes.conv_output_shape((32, 32), 3, padding=4,
                                                                                     dilation=4)))))
strided_field = Question(
    lambda: shapes.receptive_field([3, 3, 3], strides=[2, 2, 2]),
    slips=((N_("strides ignored: each layer's step multiplies what the next one adds"),
            lambda: shapes.receptive_field([3, 3, 3])),
           (N_("k^3: fields grow by (k - 1) times the product of the earlier strides"), lambda: 3 ** 3)))
stacked_weights = Question(
    lambda: 3 * shapes.conv_parameter_count(64, 64, (3, 3), bias=False),
    slips=((N_("one layer only: there are three"), lambda: shapes.conv_parameter_count(64, 64, (3, 3), bias=False)),
           (N_("that is one 7x7 layer: three 3x3 layers hold 27C² weights, not 49C²"),
            lambda: shapes.conv_parameter_count(64, 64, (7, 7), bias=False)),
           (N_("a bias counted: the question asks for weights only"),
            lambda: 3 * shapes.conv_parameter_count(64, 64, (3, 3))),
           (N_("the channels not counted: each 3x3 kernel connects one of 64 inputs to one of 64 outputs"),
            lambda: 3 * 3 * 3)))

"""convlab.shapes against the shapes, parameter counts and FLOPs that torch itself produces."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from convlab import shapes
from tests.strategies import pool_arguments

pytestmark = pytest.mark.kernels

sizes = st.integers(1, 30)
kernels = st.integers(1, 6)
strides = st.integers(1, 4)
paddings = st.integers(0, 4)
dilations = st.integers(1, 4)


def _meta(*shape):
    """A meta tensor: torch computes output shapes without data."""
    return torch.empty(shape, device="meta")


def _cpu(*shape):
    """A small real tensor where the meta kernels skip torch's argument checks (output_padding)."""
    return torch.zeros(shape)


@given(size=sizes, kernel_size=kernels, stride=strides, padding=paddings, dilation=dilations)
def test_conv_output_size_matches_torch(size, kernel_size, stride, padding, dilation):
    x, w = _cpu(1, 1, size), _cpu(1, 1, kernel_size)
    try:
        expected = F.conv1d(x, w, stride=stride, padding=padding, dilation=dilation).shape[-1]
    except RuntimeError:  # torch refuses: the padded input is shorter than the dilated kernel
        with pytest.raises(ValueError, match="kernel_size"):
            shapes.conv_output_size(size, kernel_size, stride, padding, dilation)
        return
    assert shapes.conv_output_size(size, kernel_size, stride, padding, dilation) == expected


@given(size=sizes, kernel_size=kernels, stride=strides, padding=paddings, dilation=dilations,
       output_padding=st.integers(0, 3))
def test_conv_transpose_output_size_matches_torch(size, kernel_size, stride, padding, dilation, output_padding):
    x, w = _cpu(1, 1, size), _cpu(1, 1, kernel_size)
    try:
        expected = F.conv_transpose1d(x, w, stride=stride, padding=padding, output_padding=output_padding,
                                      dilation=dilation).shape[-1]
    except RuntimeError:  # output_padding too large, or a non-positive output size
        with pytest.raises(ValueError, match="output_padding|output size"):
            shapes.conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation)
        return
    assert shapes.conv_transpose_output_size(size, kernel_size, stride, padding, output_padding, dilation) == expected


@given(height=pool_arguments(), width=pool_arguments())
def test_pool_output_shape_matches_max_pool2d(height, width):
    (h, h_args), (w, w_args) = height, width
    ceil_mode = h_args["ceil_mode"]
    args = {name: (h_args[name], w_args[name]) for name in ("kernel_size", "stride", "padding", "dilation")}
    expected = F.max_pool2d(_meta(1, 1, h, w), ceil_mode=ceil_mode, **args).shape[-2:]
    assert shapes.pool_output_shape((h, w), ceil_mode=ceil_mode, **args) == tuple(expected)
    assert shapes.pool_output_size(h, **{**h_args, "ceil_mode": ceil_mode}) == expected[0]


@given(case=pool_arguments())
def test_pool_output_size_matches_avg_pool2d(case):
    size, args = case
    args.pop("dilation")  # avg_pool2d has no dilation
    expected = F.avg_pool2d(_meta(1, 1, size, size), **args).shape[-1]
    assert shapes.pool_output_size(size, **args) == expected


def test_pool_ceil_mode_worked_example_from_lesson_06():
    assert shapes.pool_output_size(13, 2, 2) == F.max_pool2d(_meta(1, 1, 13, 13), 2, 2).shape[-1]
    assert shapes.pool_output_size(13, 2, 2, ceil_mode=True) == \
        F.max_pool2d(_meta(1, 1, 13, 13), 2, 2, ceil_mode=True).shape[-1]


def test_pool_last_window_may_not_start_in_right_padding():
    """size 5, kernel 2, stride 2, padding 1, ceil_mode: a 4th window would start in the right padding."""
    expected = F.max_pool1d(_meta(1, 1, 5), 2, 2, padding=1, ceil_mode=True).shape[-1]
    assert shapes.pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == expected


def test_pool_padding_over_half_the_kernel_is_rejected_like_torch():
    with pytest.raises(RuntimeError):
        F.max_pool2d(_meta(1, 1, 9, 9), 3, padding=2)
    with pytest.raises(ValueError, match="padding=2, kernel_size=3"):
        shapes.pool_output_size(9, 3, padding=2)


def test_pool_stride_none_means_kernel_size():
    assert shapes.pool_output_size(10, 3) == shapes.pool_output_size(10, 3, 3)
    assert shapes.pool_output_shape((10, 7), (3, 2)) == tuple(F.max_pool2d(_meta(1, 1, 10, 7), (3, 2)).shape[-2:])


@given(size=sizes, kernel_size=kernels, dilation=dilations)
def test_same_padding_reproduces_torch_padding_same(size, kernel_size, dilation):
    assume(size >= 1)
    before, after = shapes.same_padding(kernel_size, dilation)
    x = torch.arange(size, dtype=torch.float64).view(1, 1, size) + 1
    w = torch.rand(1, 1, kernel_size, dtype=torch.float64, generator=torch.Generator().manual_seed(size))
    same = F.conv1d(x, w, padding="same", dilation=dilation)
    explicit = F.conv1d(F.pad(x, (before, after)), w, dilation=dilation)
    torch.testing.assert_close(same, explicit, atol=1e-12, rtol=0)
    assert shapes.conv_output_shape((size,), kernel_size, 1, ((before, after),), dilation) == (size,)


def test_same_padding_per_dimension():
    assert shapes.same_padding((3, 4), (1, 1)) == ((1, 1), (1, 2))
    assert shapes.same_padding(4, 3) == (4, 5)


@given(kernel_size=kernels, dilation=dilations)
def test_effective_kernel_size_is_the_smallest_input_with_one_output(kernel_size, dilation):
    span = shapes.effective_kernel_size(kernel_size, dilation)
    assert F.conv1d(_meta(1, 1, span), _meta(1, 1, kernel_size), dilation=dilation).shape[-1] == 1
    with pytest.raises(RuntimeError):
        F.conv1d(_meta(1, 1, span - 1), _meta(1, 1, kernel_size), dilation=dilation) if span > 1 else \
            F.conv1d(_meta(1, 1, 0), _meta(1, 1, kernel_size))


@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=4))
def test_receptive_field_matches_autograd(layers):
    """The receptive field is the span of inputs the first output's gradient reaches through a conv stack
    (dilation leaves holes inside the span; they still count)."""
    kernel_sizes, strides, dilations = (list(v) for v in zip(*layers))
    field = shapes.receptive_field(kernel_sizes, strides, dilations)
    x = torch.zeros(1, 1, field + 40, dtype=torch.float64, requires_grad=True)
    out = x
    for k, s, d in layers:
        out = F.conv1d(out, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    (grad,) = torch.autograd.grad(out[0, 0, 0], x)
    reached = grad[0, 0].nonzero().flatten()
    assert int(reached.max() - reached.min()) + 1 == field


def test_receptive_field_worked_example_from_lesson_05():
    assert shapes.receptive_field([3, 3]) == 5 == shapes.effective_kernel_size(5)
    assert shapes.receptive_field([3], dilations=[2]) == shapes.effective_kernel_size(3, 2)


@given(in_per_group=st.integers(1, 4), out_per_group=st.integers(1, 4), groups=st.integers(1, 3),
       kernel=st.lists(st.integers(1, 5), min_size=1, max_size=3), bias=st.booleans())
def test_conv_parameter_count_matches_torch_modules(in_per_group, out_per_group, groups, kernel, bias):
    module = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[len(kernel)]
    layer = module(in_per_group * groups, out_per_group * groups, tuple(kernel), groups=groups, bias=bias,
                   device="meta")
    expected = sum(p.numel() for p in layer.parameters())
    assert shapes.conv_parameter_count(in_per_group * groups, out_per_group * groups, tuple(kernel), groups,
                                       bias) == expected


def test_conv_parameter_count_worked_example_from_lesson_03():
    """Ten 5x5 kernels over 3 channels: 760 parameters whatever the image size."""
    layer = torch.nn.Conv2d(3, 10, 5, device="meta")
    assert shapes.conv_parameter_count(3, 10, (5, 5)) == sum(p.numel() for p in layer.parameters())


@given(in_per_group=st.integers(1, 4), out_per_group=st.integers(1, 4), groups=st.integers(1, 3),
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), size=st.tuples(st.integers(4, 20), st.integers(4, 20)),
       stride=strides, padding=st.integers(0, 2), dilation=st.integers(1, 2))
def test_conv_macs_match_torch_flop_counter(in_per_group, out_per_group, groups, kernel, size, stride, padding,
                                            dilation):
    c_in, c_out = in_per_group * groups, out_per_group * groups
    x, w = _meta(1, c_in, *size), _meta(c_out, in_per_group, *kernel)
    try:
        with FlopCounterMode(display=False) as counter:
            F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    except RuntimeError:
        return  # no output: nothing to count
    macs = shapes.conv_macs(c_in, c_out, kernel, size, stride, padding, dilation, groups)
    assert 2 * macs == counter.get_total_flops()


def test_conv_macs_int_size_follows_the_kernel_dimensions():
    assert shapes.conv_macs(3, 10, (5, 5), 32) == shapes.conv_macs(3, 10, 5, (32, 32))


def test_conv_output_shape_worked_examples():
    assert shapes.conv_output_shape((5, 6), (3, 5)) == (3, 2)  # lesson 02: (10,2,5,6) with a (3,5) kernel
    assert shapes.conv_output_shape((7, 7), 3, dilation=2) == (3, 3)  # lesson 05
    assert shapes.conv_transpose_output_shape((28, 28), 4, 2, 1) == (56, 56)


@pytest.mark.parametrize("call,named", [
    (lambda: shapes.conv_output_size(2, 3), "kernel_size=3"),
    (lambda: shapes.conv_output_size(5, 3, stride=0), "stride=0"),
    (lambda: shapes.conv_output_size(5, 3, padding=-1), "padding=-1"),
    (lambda: shapes.conv_output_size(5, 3, dilation=0), "dilation=0"),
    (lambda: shapes.conv_output_size(5, 0), "kernel_size=0"),
    (lambda: shapes.conv_output_size(5.5, 3), "size=5.5"),
    (lambda: shapes.conv_transpose_output_size(3, 3, stride=2, output_padding=2), "output_padding=2"),
    (lambda: shapes.conv_transpose_output_size(1, 2, padding=1), "padding=1"),
    (lambda: shapes.pool_output_size(1, 3, 1, padding=1, dilation=3), "dilation=3"),
    (lambda: shapes.receptive_field([3, 3], strides=[1]), "strides=[1]"),
    (lambda: shapes.conv_parameter_count(3, 4, 3, groups=2), "in_channels=3"),
    (lambda: shapes.conv_output_shape((5, 5), (3, 3, 3)), "kernel_size=(3, 3, 3)"),
])
def test_bad_arguments_raise_value_error_naming_them(call, named):
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        call()

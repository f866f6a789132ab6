"""Input torch rejects is rejected by convlab.functional too, with a message naming the argument and value;
and no kernel reaches torch's own convolution, pooling, im2col, col2im or padding operators."""
import re

import pytest
import torch
import torch.nn.functional as F

import convlab.functional as CF
from convlab.checks.guard import BANNED_ATEN_OPS, forbid_builtin_kernels
from tests.strategies import random_tensor

pytestmark = pytest.mark.kernels


def t(*shape, dtype=torch.float64, seed=0):
    return random_tensor(shape, seed, dtype)


x4, w4 = t(1, 2, 6, 5), t(4, 2, 3, 3)
BAD_CALLS = [
    # (id, function name, args, kwargs, text the message must contain)
    ("rank", "conv2d", (t(6, 5), w4), {}, "2-D input of shape (6, 5)"),
    ("channels", "conv2d", (t(1, 3, 6, 5), w4), {}, "3 channels"),
    ("groups-input", "conv2d", (t(1, 3, 6, 5), t(4, 1, 3, 3)), {"groups": 2}, "groups=2"),
    ("groups-output", "conv2d", (t(1, 4, 6, 5), t(3, 2, 3, 3)), {"groups": 2}, "weight.shape[0]=3"),
    ("groups-zero", "conv2d", (x4, w4), {"groups": 0}, "groups=0"),
    ("stride", "conv2d", (x4, w4), {"stride": (0, 1)}, "stride=(0, 1)"),
    ("stride-length", "conv2d", (x4, w4), {"stride": (2, 1, 1)}, "stride=(2, 1, 1)"),
    ("dilation", "conv2d", (x4, w4), {"dilation": 0}, "dilation=(0, 0)"),
    ("padding", "conv2d", (x4, w4), {"padding": -1}, "padding=(-1, -1)"),
    ("same-strided", "conv2d", (x4, w4), {"padding": "same", "stride": 2}, "stride=(2, 2)"),
    ("padding-string", "conv2d", (x4, w4), {"padding": "full"}, "padding='full'"),
    ("too-small", "conv2d", (t(1, 2, 2, 5), w4), {}, "kernel_size=(3, 3)"),
    ("too-small-dilated", "conv1d", (t(1, 2, 5), t(1, 2, 3)), {"dilation": 3}, "dilation=(3,)"),
    ("weight-rank", "conv2d", (x4, t(4, 2, 3)), {}, "3-D weight"),
    ("bias-shape", "conv2d", (x4, w4, t(5)), {}, "bias of shape (5,)"),
    ("bias-dtype", "conv2d", (x4, w4, t(4, dtype=torch.float32)), {}, "bias torch.float32"),
    ("weight-dtype", "conv2d", (x4, t(4, 2, 3, 3, dtype=torch.float32)), {}, "weight torch.float32"),
    ("conv3d-rank", "conv3d", (t(2, 6, 5), t(4, 2, 3, 3, 3)), {}, "3-D input of shape (2, 6, 5)"),
    ("output-padding", "conv_transpose2d", (t(1, 2, 4, 4), t(2, 3, 3, 3)), {"stride": 2, "output_padding": 2},
     "output_padding=2"),
    ("transpose-channels", "conv_transpose2d", (t(1, 3, 4, 4), t(2, 3, 3, 3)), {}, "weight.shape[0]"),
    ("transpose-groups", "conv_transpose2d", (t(1, 3, 4, 4), t(3, 1, 3, 3)), {"groups": 2}, "groups=2"),
    ("transpose-negative", "conv_transpose1d", (t(1, 1, 1), t(1, 1, 2)), {"padding": 1}, "padding=(1,)"),
    ("transpose-padding", "conv_transpose2d", (t(1, 2, 4, 4), t(2, 3, 3, 3)), {"padding": -1}, "padding=(-1, -1)"),
    ("transpose-stride", "conv_transpose1d", (t(1, 2, 4), t(2, 3, 3)), {"stride": 0}, "stride=(0,)"),
    ("unfold-rank", "unfold", (t(2, 3, 4, 5, 6), 2), {}, "5-D input"),
    ("unfold-too-small", "unfold", (t(2, 3, 1, 5), 2), {}, "kernel_size=(2, 2)"),
    ("unfold-stride", "unfold", (t(2, 3, 4, 5), 2), {"stride": 0}, "stride=(0, 0)"),
    ("fold-blocks", "fold", (t(2, 12, 10), (4, 5), (2, 2)), {}, "input.shape[2]=10"),
    ("fold-channels", "fold", (t(2, 13, 12), (4, 5), (2, 2)), {}, "input.shape[1]=13"),
    ("fold-rank", "fold", (t(12,), (4, 5), (2, 2)), {}, "1-D input"),
]


@pytest.mark.parametrize("name,args,kwargs,named", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_rejected_like_torch_and_named(name, args, kwargs, named):
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        getattr(F, name)(*args, **kwargs)
    with pytest.raises((RuntimeError, ValueError)) as error:
        getattr(CF, name)(*args, **kwargs)
    message = str(error.value)
    assert message.startswith(f"{name}:"), f"message does not name the operation: {message}"
    assert named in message, f"message does not contain {named!r}: {message}"


def test_corr2d_rejects_batched_input_naming_it():
    with pytest.raises(RuntimeError, match=re.escape("4-D X of shape (1, 1, 3, 3)")):
        CF.corr2d(torch.zeros(1, 1, 3, 3), torch.zeros(2, 2))


def test_non_tensor_input_is_named():
    with pytest.raises(ValueError, match="input must be a torch.Tensor, got input of type list"):
        CF.conv2d([[1.0]], w4)


def _every_op():
    """One call of every kernel, with arguments that exercise padding, stride, groups and dilation."""
    x1, x2, x3 = t(2, 4, 9, seed=1), t(2, 4, 9, 8, seed=2), t(1, 4, 5, 6, 4, seed=3)
    for tensor in (x1, x2, x3):
        tensor.requires_grad_(True)
    big = t(2, 32, 12, 12, seed=4).requires_grad_(True)
    return [
        CF.conv1d(x1, t(6, 2, 3), t(6), 2, 1, 1, 2),
        CF.conv2d(x2, t(6, 2, 3, 2), t(6), 1, "same", 2, 2),
        CF.conv2d(x2, t(4, 1, 3, 3), None, 2, 1, 1, 4),  # depthwise
        CF.conv2d(big, t(32, 32, 3, 3), None, 1, 1),  # shifted matmul
        CF.conv3d(x3, t(2, 4, 2, 3, 2), None, (1, 2, 1), 1),
        CF.conv_transpose1d(x1, t(4, 3, 3), t(3), 2, 1, 1),
        CF.conv_transpose2d(x2, t(4, 2, 4, 4), None, 2, 1, 0, 2),
        CF.conv_transpose3d(x3, t(4, 2, 2, 2, 2), None, 2),
        CF.unfold(x2, (2, 3), 1, 1, 2),
        CF.fold(t(2, 12, 30, seed=5).requires_grad_(True), (5, 5), (2, 3), padding=1),
        CF.corr2d(t(6, 5, seed=6), t(2, 2, seed=7)),
    ]


def test_no_kernel_dispatches_to_torch_convolution_pooling_im2col_or_padding():
    with forbid_builtin_kernels(BANNED_ATEN_OPS) as seen:
        outputs = _every_op()
        total = sum(out.sum() for out in outputs)
        total.backward()
    assert seen.ops == [], f"convlab.functional called torch's own kernels: {seen.ops}"


def test_dispatch_recorder_sees_torch_convolution():
    """The recorder used above does see the real thing, so its silence means something."""
    with forbid_builtin_kernels(BANNED_ATEN_OPS) as seen:
        F.conv2d(x4, w4)
    assert seen.ops, "the dispatch recorder missed F.conv2d"


def test_no_kernel_dispatches_to_banned_ops_on_meta():
    x = torch.empty(2, 4, 9, 8, device="meta")
    with forbid_builtin_kernels(BANNED_ATEN_OPS) as seen:
        CF.conv2d(x, torch.empty(6, 2, 3, 3, device="meta"), None, 1, 1, 1, 2)
        CF.conv_transpose2d(x, torch.empty(4, 3, 3, 3, device="meta"), None, 2)
        CF.unfold(x, 3)
    assert seen.ops == []

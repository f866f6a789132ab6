"""The dispatcher-level ban sees torch's kernels through every alias, and nothing else."""
import pytest
import torch
import torch.nn.functional as F

from convlab.checks.guard import (
    BANNED_ATEN_OPS,
    CONVOLUTION_OPS,
    IM2COL_OPS,
    KERNEL_OPS,
    PADDING_OPS,
    POOLING_OPS,
    forbid_builtin_kernels,
)

pytestmark = pytest.mark.grading

X = torch.randn(2, 2, 7, 6, dtype=torch.float64)
W = torch.randn(3, 2, 3, 2, dtype=torch.float64)

ALIASES = {
    "F.conv2d": (lambda: F.conv2d(X, W), "aten.convolution"),
    "torch.conv2d": (lambda: torch.conv2d(X, W), "aten.convolution"),
    "torch._C._VariableFunctions.conv2d": (lambda: torch._C._VariableFunctions.conv2d(X, W), "aten.convolution"),
    "torch.convolution": (lambda: torch.convolution(X, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
                          "aten.convolution"),
    "torch.ops.aten.convolution": (
        lambda: torch.ops.aten.convolution(X, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
        "aten.convolution"),
    "torch.ops.aten._convolution": (
        lambda: torch.ops.aten._convolution(X, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1,
                                            False, False, True, True),
        "aten._convolution"),
    "nn.Conv2d": (lambda: torch.nn.Conv2d(2, 3, 3).double()(X), "aten.convolution"),
    "F.conv1d": (lambda: F.conv1d(X[:, :, 0], W[:, :, 0]), "aten.convolution"),
    "F.conv3d": (lambda: F.conv3d(X[:, :, None], W[:, :, None]), "aten.convolution"),
    "F.conv_transpose2d": (lambda: F.conv_transpose2d(X, W.transpose(0, 1)), "aten.convolution"),
    "aten._slow_conv2d_forward": (
        lambda: torch.ops.aten._slow_conv2d_forward(X, W, [3, 2], None, [1, 1], [0, 0]),
        "aten._slow_conv2d_forward"),
    "aten.convolution_backward": (
        lambda: torch.ops.aten.convolution_backward(
            torch.ones(2, 3, 5, 5, dtype=torch.float64), X, W, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1,
            [True, True, False]),
        "aten.convolution_backward"),
    "F.unfold": (lambda: F.unfold(X, (3, 2)), "aten.im2col"),
    "torch._C._nn.im2col": (lambda: torch._C._nn.im2col(X, [3, 2], [1, 1], [0, 0], [1, 1]), "aten.im2col"),
    "F.fold": (lambda: F.fold(torch.randn(1, 18, 16), (6, 6), 3), "aten.col2im"),
    "F.max_pool2d": (lambda: F.max_pool2d(X, 2), "aten.max_pool2d_with_indices"),
    "F.max_pool2d indices": (lambda: F.max_pool2d(X, 2, return_indices=True), "aten.max_pool2d_with_indices"),
    "nn.MaxPool2d": (lambda: torch.nn.MaxPool2d(3, 2)(X), "aten.max_pool2d_with_indices"),
    "torch.max_pool2d": (lambda: torch.max_pool2d(X, 2), "aten.max_pool2d_with_indices"),
    "F.avg_pool2d": (lambda: F.avg_pool2d(X, 2), "aten.avg_pool2d"),
    "torch._C._nn.avg_pool2d": (lambda: torch._C._nn.avg_pool2d(X, [2, 2]), "aten.avg_pool2d"),
    "F.avg_pool1d": (lambda: F.avg_pool1d(X[0], 2), "aten.avg_pool2d"),
    "F.adaptive_avg_pool2d": (lambda: F.adaptive_avg_pool2d(X, 3), "aten._adaptive_avg_pool2d"),
    "F.adaptive_max_pool2d": (lambda: F.adaptive_max_pool2d(X, 3), "aten.adaptive_max_pool2d"),
    "F.fractional_max_pool2d": (lambda: F.fractional_max_pool2d(X, 2, output_size=3), "aten.fractional_max_pool2d"),
    "F.pad": (lambda: F.pad(X, (1, 1, 2, 0)), "aten.constant_pad_nd"),
    "F.pad circular": (lambda: F.pad(X, (1, 1, 2, 0), mode="circular"), "aten.pad"),
    "torch._C._nn._pad_circular": (lambda: torch._C._nn._pad_circular(X, [1, 1, 2, 0]), "aten._pad_circular"),
    "torch.ops.aten._pad_circular": (lambda: torch.ops.aten._pad_circular(X, [1, 1, 2, 0]), "aten._pad_circular"),
    "F.pad reflect": (lambda: F.pad(X, (1, 1, 2, 0), mode="reflect"), "aten.reflection_pad2d"),
    "F.pad replicate": (lambda: F.pad(X, (1, 1, 2, 0), mode="replicate"), "aten.replication_pad2d"),
    "torch.constant_pad_nd": (lambda: torch.constant_pad_nd(X, (1, 1)), "aten.constant_pad_nd"),
    "conv on meta": (lambda: F.conv2d(X.to("meta"), W.to("meta")), "aten.convolution"),
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_each_alias_is_seen(alias):
    call, expected = ALIASES[alias]
    with forbid_builtin_kernels() as seen:
        call()
    assert expected in seen.ops, f"{alias}: saw {seen.ops}, expected {expected}"
    assert seen.first() == seen.ops[0]


def test_general_tensor_ops_are_not_banned():
    with forbid_builtin_kernels() as seen:
        windows = X.unfold(2, 3, 1).unfold(3, 2, 1)  # (N, C, H', W', kh, kw)
        out = torch.einsum("nchwij,ocij->nohw", windows, W)
        out = out + torch.zeros(3, dtype=X.dtype)[None, :, None, None]
        _ = torch.nn.functional.relu(out).amax(dim=(2, 3)) + out.mean() + out.cumsum(0).sum()
        _ = F.adaptive_avg_pool2d(X, 1)  # a global mean, not a pooling kernel
    assert seen.ops == []
    torch.testing.assert_close(out, F.conv2d(X, W))


def test_the_op_still_runs_and_the_mode_ends_cleanly():
    with forbid_builtin_kernels() as seen:
        out = F.conv2d(X, W)
    torch.testing.assert_close(out, F.conv2d(X, W))
    with forbid_builtin_kernels() as again:
        pass
    assert seen.ops and again.ops == []


def test_a_narrower_ban_lets_padding_through():
    with forbid_builtin_kernels(KERNEL_OPS) as seen:
        F.pad(X, (1, 1))
    assert seen.ops == []
    with forbid_builtin_kernels(KERNEL_OPS) as seen:
        F.conv2d(X, W)
    assert seen.ops == ["aten.convolution"]


def test_groups_partition_the_ban():
    groups = [CONVOLUTION_OPS, IM2COL_OPS, POOLING_OPS, PADDING_OPS]
    assert BANNED_ATEN_OPS == frozenset().union(*groups)
    assert sum(len(g) for g in groups) == len(BANNED_ATEN_OPS)
    names = {str(p) for p in BANNED_ATEN_OPS}
    for must in ["aten.convolution", "aten._convolution", "aten.conv2d", "aten.im2col", "aten.col2im",
                 "aten.max_pool2d_with_indices", "aten.avg_pool2d", "aten.constant_pad_nd",
                 "aten.reflection_pad2d", "aten.replication_pad2d", "aten.mkldnn_convolution",
                 "aten.cudnn_convolution", "aten._slow_conv2d_forward", "aten.thnn_conv2d"]:
        assert must in names, must


def test_skip_dynamo_import_spares_the_import_and_meta_ops_still_work():
    import subprocess
    import sys

    code = ("import sys, torch\n"
            "from convlab.checks.guard import skip_dynamo_import\n"
            "count = skip_dynamo_import()\n"
            "x = torch.ones(2, 3, device='meta')\n"
            "y = (x * x + 1).sum(0)\n"
            "print(count, tuple(y.shape), y.device, 'torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 0
    assert out[1:] == ["(3,)", "meta", "False"]

"""convlab.matrices: the three views of lesson 07 and the transposed matrix of lesson 09 agree with torch."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from convlab.matrices import conv_matrix, conv_transpose_via_matrix, im2col, windows

pytestmark = pytest.mark.kernels

sizes = st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4))


def _torch_corr2d(X, K):
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]


@given(sizes, st.integers(0, 2**31 - 1))
def test_conv_matrix_times_flat_image_is_corr2d(dims, seed):
    kh, kw, extra_h, extra_w = dims
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(kh + extra_h, kw + extra_w, generator=g, dtype=torch.float64)
    K = torch.randn(kh, kw, generator=g, dtype=torch.float64)
    M = conv_matrix(K, X.shape)
    expected = _torch_corr2d(X, K)
    assert M.shape == (expected.numel(), X.numel())
    torch.testing.assert_close((M @ X.reshape(-1)).reshape(expected.shape), expected)


def test_unrolled_3x3_on_5x5_is_9x25_with_9_nonzeros_per_row():
    K = torch.arange(1.0, 10.0).reshape(3, 3)
    M = conv_matrix(K, (5, 5))
    assert M.shape == (9, 25)
    assert ((M != 0).sum(dim=1) == 9).all()
    # doubly block Toeplitz: block (i, j) of size 3x5 depends only on j - i
    blocks = M.reshape(3, 3, 5, 5).permute(0, 2, 1, 3)  # (block row, block col, row, col)
    torch.testing.assert_close(blocks[1, 2], blocks[0, 1])
    torch.testing.assert_close(blocks[2, 2], blocks[0, 0])
    assert not blocks[1, 0].any()


@given(sizes, st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_im2col_matmul_is_strided_corr2d(dims, stride, seed):
    kh, kw, extra_h, extra_w = dims
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(kh + extra_h, kw + extra_w, generator=g, dtype=torch.float64)
    K = torch.randn(kh, kw, generator=g, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(X[None, None], K[None, None], stride=stride)[0, 0]
    cols = im2col(X, (kh, kw), stride)
    assert cols.shape == (kh * kw, expected.numel())
    torch.testing.assert_close((K.reshape(1, -1) @ cols).reshape(expected.shape), expected)
    torch.testing.assert_close((windows(X, (kh, kw), stride) * K).sum(dim=(-2, -1)), expected)


@given(sizes, st.integers(0, 2**31 - 1))
def test_transposed_matrix_is_conv_transpose2d(dims, seed):
    kh, kw, h, w = dims
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(h + 1, w + 1, generator=g, dtype=torch.float64)
    K = torch.randn(kh, kw, generator=g, dtype=torch.float64)
    expected = torch.nn.functional.conv_transpose2d(X[None, None], K[None, None])[0, 0]
    torch.testing.assert_close(conv_transpose_via_matrix(X, K), expected)


def test_meta_device_and_dtype_kept():
    K = torch.randn(3, 2, dtype=torch.float16, device="meta")
    M = conv_matrix(K, (6, 5))
    assert (M.shape, M.dtype, M.device.type) == ((16, 30), torch.float16, "meta")


@pytest.mark.parametrize("kernel, size, needle", [
    (torch.ones(3), (5, 5), "kernel"),
    (torch.ones(4, 4), (3, 5), "input_size"),
    (torch.ones(2, 2), (5, 0), "input_size"),
])
def test_bad_arguments_are_named(kernel, size, needle):
    with pytest.raises(ValueError, match=needle):
        conv_matrix(kernel, size)

"""Convolution as matrix multiplication: window views, im2col columns and the unrolled kernel matrix.

Lesson 07 computes one 2D cross-correlation three ways (windows, im2col, a big sparse matrix);
lesson 09 multiplies by the transpose of the same matrix to get a transposed convolution. The
functions here are the course's reference versions, single-channel and 2D so the matrices stay
small enough to print.
"""
import torch

from convlab.arguments import positive

__all__ = ["windows", "im2col", "conv_matrix", "conv_transpose_via_matrix"]


def _check_2d(tensor, name):
    if not isinstance(tensor, torch.Tensor) or tensor.dim() != 2:
        shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        raise ValueError(f"{name} must be a 2D tensor (H, W), got {name} with shape {shape}")


def windows(X, kernel_size, stride=1):
    """Every window of a 2D X as a view of shape (H', W', kh, kw): view (1) of lesson 07, no copy."""
    _check_2d(X, "X")
    kh, kw = positive(kernel_size, 2, "kernel_size", "windows")
    sh, sw = positive(stride, 2, "stride", "windows")
    if kh > X.shape[0] or kw > X.shape[1]:
        raise ValueError(f"kernel_size={kernel_size!r} is larger than X of shape {tuple(X.shape)}")
    return X.unfold(0, kh, sh).unfold(1, kw, sw)  # (H', W', kh, kw)


def im2col(X, kernel_size, stride=1):
    """The windows of a 2D X flattened into columns, (kh·kw, H'·W'): view (2), one matmul away."""
    w = windows(X, kernel_size, stride)
    Ho, Wo, kh, kw = w.shape
    return w.reshape(Ho * Wo, kh * kw).T  # (kh*kw, H'*W')


def conv_matrix(kernel, input_size):
    """The kernel unrolled into a (H'·W', H·W) matrix M with M @ X.flatten() == corr2d(X, kernel).flatten().

    Row r is the kernel placed at output position r on an otherwise zero H×W image; the result is
    doubly block Toeplitz: H' × H blocks of size W' × W, each block itself Toeplitz.
    """
    _check_2d(kernel, "kernel")
    H, W = positive(input_size, 2, "input_size", "conv_matrix")
    kh, kw = kernel.shape
    if kh > H or kw > W:
        raise ValueError(f"kernel of shape {(kh, kw)} does not fit input_size={input_size!r}")
    Ho, Wo = H - kh + 1, W - kw + 1
    dev = kernel.device
    oi = torch.arange(Ho, device=dev).view(Ho, 1, 1, 1)
    oj = torch.arange(Wo, device=dev).view(1, Wo, 1, 1)
    a = torch.arange(kh, device=dev).view(1, 1, kh, 1)
    b = torch.arange(kw, device=dev).view(1, 1, 1, kw)
    row = (oi * Wo + oj).expand(Ho, Wo, kh, kw)        # which output position
    col = ((oi + a) * W + (oj + b)).expand(Ho, Wo, kh, kw)  # which input pixel it reads
    M = kernel.new_zeros(Ho * Wo, H * W)
    M[row.reshape(-1), col.reshape(-1)] = kernel.expand(Ho, Wo, kh, kw).reshape(-1)
    return M  # (H'*W', H*W)


def conv_transpose_via_matrix(X, kernel):
    """Transposed convolution of a 2D X (stride 1, no padding) as conv_matrix(...).T @ X.flatten()."""
    _check_2d(X, "X")
    _check_2d(kernel, "kernel")
    H, W = X.shape[0] + kernel.shape[0] - 1, X.shape[1] + kernel.shape[1] - 1
    M = conv_matrix(kernel, (H, W))  # (h*w, H*W)
    return (M.T @ X.reshape(-1)).reshape(H, W)

"""Checks for lesson 01 (single-channel cross-correlation)."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.i18n import N_

FLIPPED = N_("kernel flipped — that is convolution; deep learning's 'convolution' slides K "
             "as it is (cross-correlation)")
OFF_BY_ONE = N_("window count off by one — a size-n input has n - k + 1 positions for a size-k kernel")


def corr2d_reference(X, K):
    """torch's cross-correlation of one 2D map with one 2D kernel."""
    return F.conv2d(X[None, None], K[None, None])[0, 0]  # (1, 1, H, W) -> (H', W')


class Corr2d(Exercise):
    """corr2d(X, K): 2D X (H, W), 2D K (kh, kw), no padding, stride 1."""

    references = (*ref.CORR2D, *ref.CONVOLUTION)

    def make_case(self, draw, i):
        h, w = draw.int(3, 9), draw.int(3, 9)
        kh, kw = draw.int(1, min(h, 4)), draw.int(1, min(w, 4))
        if i == 0:  # always one non-square kernel on a non-square input
            h, w, kh, kw = draw.int(5, 8), draw.int(3, 4) + 5, 2, 3
        return Case((draw.randn(h, w, dtype=draw.dtype(i)), draw.randn(kh, kw, dtype=draw.dtype(i))))

    def reference(self, X, K):
        return corr2d_reference(X, K)

    def mistakes(self, X, K):
        yield FLIPPED, corr2d_reference(X, K.flip(0, 1))
        (h, w), (kh, kw) = X.shape, K.shape
        yield OFF_BY_ONE, torch.empty(h - kh, w - kw)
        yield OFF_BY_ONE, torch.empty(h - kh + 2, w - kw + 2)
        yield N_("height and width swapped in the output"), corr2d_reference(X, K).T


corr2d = Corr2d()


# -- check your understanding ----------------------------------------------------------------
output_shape = Question(
    lambda: shapes.conv_output_shape((28, 35), (5, 4)),
    slips=((N_("the +1 forgotten: n - k + 1 positions fit along each side"),
            lambda: tuple(n - 1 for n in shapes.conv_output_shape((28, 35), (5, 4)))),
           (N_("the kernel's height and width swapped: it is 5 rows by 4 columns"),
            lambda: shapes.conv_output_shape((28, 35), (4, 5))),
           (N_("the input's shape: a kernel larger than 1x1 makes the output smaller"), lambda: (28, 35))))
kernel_weights = Question(
    lambda: shapes.conv_parameter_count(1, 1, (5, 5), bias=False),
    slips=((N_("a bias counted: the question asks for the kernel's weights"),
            lambda: shapes.conv_parameter_count(1, 1, (5, 5))),
           (N_("one side only: a 5x5 kernel has 5 x 5 weights"), lambda: 5)))
dense_weights = Question(
    lambda: (32 * 32) * (32 * 32),
    slips=((N_("the inputs only: each of the 1024 units needs a weight per input"), lambda: 32 * 32),
           (N_("a bias counted: this layer has none"), lambda: (32 * 32) * (32 * 32) + 32 * 32),
           (N_("one side of the image only: it has 32 x 32 pixels"), lambda: 32 * 32 * 32)))

"""Checks for lesson 07 (convolution as matrix multiplication): unfold, conv2d by im2col, the unrolled kernel matrix."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.lesson03 import Conv2d
from convlab.checks.questions import Question
from convlab.checks.variants import DILATION_IGNORED, FLIPPED, PADDING_IGNORED, STRIDE_IGNORED, pair
from convlab.i18n import N_

CHANNELS_LAST = N_("rows in the wrong order — torch orders a column as (channel, kernel row, kernel column), "
                   "the channel varying slowest")
ROWS_NOT_COLUMNS = N_("windows laid out as rows — each window is a column: shape (N, C·kh·kw, L)")


class Unfold(Exercise):
    """unfold(input, kernel_size, dilation=1, padding=0, stride=1): torch's F.unfold (im2col)."""

    references = ref.CONVOLUTION

    def make_case(self, draw, i):
        dtype = draw.dtype(i)
        batch, c = draw.int(1, 3), draw.int(1, 3)
        kh, kw = draw.int(1, 3), draw.int(1, 3)
        kwargs = {}
        if i % 4 == 1 or (i > 3 and draw.bool()):
            kwargs["stride"] = (draw.int(1, 3), draw.int(1, 3)) if draw.bool() else draw.int(2, 3)
        if i % 4 == 2 or (i > 3 and draw.bool()):
            kwargs["padding"] = (draw.int(0, 2), draw.int(0, 2)) if draw.bool() else draw.int(1, 2)
        if i % 4 == 3 or (i > 3 and draw.bool()):
            kwargs["dilation"] = (draw.int(1, 2), draw.int(1, 3)) if draw.bool() else 2
        d, p = pair(kwargs.get("dilation", 1)), pair(kwargs.get("padding", 0))
        h = draw.int(max(1, d[0] * (kh - 1) + 1 - 2 * p[0]), 9)
        w = draw.int(max(1, d[1] * (kw - 1) + 1 - 2 * p[1]), 9)
        kernel_size = (kh, kw) if kh != kw or draw.bool() else kh
        if i == 0:  # non-square input, non-square kernel, a batch and channels
            batch, c, h, w, kernel_size = 2, 3, 5, 7, (2, 3)
        shape = (batch, c, h, w) if i % 5 != 4 else (c, h, w)  # unbatched every fifth case
        return Case((draw.randn(*shape, dtype=dtype), kernel_size), kwargs)

    def reference(self, input, kernel_size, dilation=1, padding=0, stride=1):
        return F.unfold(input, kernel_size, dilation=dilation, padding=padding, stride=stride)

    def mistakes(self, input, kernel_size, dilation=1, padding=0, stride=1):
        ref = F.unfold(input, kernel_size, dilation=dilation, padding=padding, stride=stride)
        kh, kw = pair(kernel_size)
        c = input.shape[-3]
        if pair(stride) != (1, 1):
            yield STRIDE_IGNORED, F.unfold(input, kernel_size, dilation=dilation, padding=padding)
        if pair(padding) != (0, 0):
            yield PADDING_IGNORED, F.unfold(input, kernel_size, dilation=dilation, stride=stride)
        if pair(dilation) != (1, 1):
            yield DILATION_IGNORED, F.unfold(input, kernel_size, padding=padding, stride=stride)
        if c > 1:
            lead = ref.shape[:-2]
            reordered = ref.reshape(*lead, c, kh * kw, ref.shape[-1]).transpose(-3, -2)  # (…, kh*kw, C, L)
            yield CHANNELS_LAST, reordered.reshape(ref.shape)
        yield ROWS_NOT_COLUMNS, ref.transpose(-2, -1)


class Conv2dIm2col(Conv2d):
    """conv2d_im2col(input, weight, bias=None, stride=1, padding=0): lesson 03's conv2d, by im2col."""

    references = ref.CONVOLUTION_BUT_IM2COL
    examples = ({"batch": 2, "in_channels": 3, "out_channels": 4, "size": (6, 7), "kernel_size": (3, 2)},)


def conv_matrix_reference(kernel, input_size):
    """torch's correlation of every one-hot image: column j of the matrix is the output for pixel j."""
    H, W = input_size
    basis = torch.eye(H * W, dtype=kernel.dtype).reshape(H * W, 1, H, W)    # one image per pixel
    responses = F.conv2d(basis, kernel[None, None])                        # (H*W, 1, H', W')
    return responses.reshape(H * W, -1).T.contiguous()                     # (H'*W', H*W)


class ConvMatrix(Exercise):
    """conv_matrix(kernel, input_size): 2D kernel, (H, W) -> (H'·W', H·W)."""

    references = ref.CONVOLUTION

    examples = ({"kh": 3, "kw": 3, "H": 5, "W": 5},   # lesson 07's 9×25
                {"kh": 2, "kw": 3, "H": 4, "W": 6})   # non-square everything

    def make_case(self, draw, i):
        kh, kw = draw.int(1, 3), draw.int(1, 3)
        kh, kw, H, W = self.with_example(i, kh=kh, kw=kw, H=kh + draw.int(0, 4), W=kw + draw.int(0, 4))
        return Case((draw.randn(kh, kw, dtype=draw.dtype(i)), (H, W)))

    def reference(self, kernel, input_size):
        return conv_matrix_reference(kernel, input_size)

    def mistakes(self, kernel, input_size):
        yield FLIPPED, conv_matrix_reference(kernel.flip(0, 1), input_size)
        M = conv_matrix_reference(kernel, input_size)
        yield N_("matrix transposed — one row per output position, one column per input pixel"), M.T


unfold = Unfold()
conv2d_im2col = Conv2dIm2col()
conv_matrix = ConvMatrix()


# -- check your understanding ----------------------------------------------------------------
matrix_shape = Question(
    lambda: (shapes.conv_output_size(7, 3) ** 2, 7 * 7),
    slips=((N_("rows and columns swapped: one row per output pixel, one column per input pixel"),
            lambda: (7 * 7, shapes.conv_output_size(7, 3) ** 2)),
           (N_("one side only: the matrix maps the whole flattened image"), lambda: (shapes.conv_output_size(7, 3), 7)),
           (N_("the kernel's size as the rows: there is one row per output pixel"), lambda: (3 * 3, 7 * 7))))
nonzeros_per_row = Question(
    lambda: 3 * 3,
    slips=((N_("one entry per input pixel: only the 9 under the window can be non-zero"), lambda: 7 * 7),
           (N_("one row of the kernel only"), lambda: 3)))
unfold_shape = Question(
    lambda: (1, 3 * 5 * 5, shapes.conv_output_size(32, 5, 1, 2) ** 2),
    slips=((N_("padding ignored"), lambda: (1, 3 * 5 * 5, shapes.conv_output_size(32, 5) ** 2)),
           (N_("the channels left out of the rows: each column holds C x k x k values"),
            lambda: (1, 5 * 5, shapes.conv_output_size(32, 5, 1, 2) ** 2)),
           (N_("rows and columns swapped: a column per window"),
            lambda: (1, shapes.conv_output_size(32, 5, 1, 2) ** 2, 3 * 5 * 5))))

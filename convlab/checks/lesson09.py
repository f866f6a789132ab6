"""Checks for lesson 09 (transposed convolution): conv_transpose2d and its matrix form."""
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import BIAS_MISSING, STRIDE_IGNORED, pair
from convlab.i18n import N_

NOT_FLIPPED = N_("kernel not flipped — correlating the spread input needs the kernel flipped in both directions "
                 "(or scatter the kernel as it is)")
PADDING_ADDED = N_("padding added — in a transposed convolution padding removes p rows/columns from each side")
PADDING_IGNORED = N_("padding ignored — crop p rows and columns from each side of the full output")
OUTPUT_PADDING_IGNORED = N_("output_padding ignored — it adds that many rows/columns at the bottom/right")
OUTPUT_PADDING_TOP = N_("output_padding on the wrong side — it extends the bottom and right edges, "
                        "not the top and left")
WEIGHT_SWAPPED = N_("weight read as (C_out, C_in, kH, kW) — a transposed convolution's weight is "
                    "(C_in, C_out, kH, kW)")


class ConvTranspose2d(Exercise):
    """conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0): NCHW input."""

    references = (*ref.TRANSPOSED, *ref.AUTOGRAD, *ref.MODELS)
    # A batch, channels, stride 2, padding 1, output_padding 1, non-square.
    examples = ({"batch": 2, "c_in": 3, "c_out": 2, "h": 3, "w": 4, "kh": 3, "kw": 2, "stride": (2, 2),
                 "padding": (1, 1), "output_padding": (1, 1)},)

    def make_case(self, draw, i):
        dtype = draw.dtype(i)
        batch, c_in, c_out, h, w, kh, kw, stride = self.with_example(
            i, batch=draw.int(1, 3), c_in=draw.int(1, 3), c_out=draw.int(1, 3), h=draw.int(1, 5), w=draw.int(1, 5),
            kh=draw.int(1, 4), kw=draw.int(1, 4), stride=(draw.int(1, 3), draw.int(1, 3)))
        kwargs = {}
        if i % 2 == 0 or draw.bool():
            kwargs["bias"] = draw.randn(c_out, dtype=dtype)
        if stride != (1, 1) or draw.bool():
            kwargs["stride"] = stride if stride[0] != stride[1] or draw.bool() else stride[0]
        padding = (draw.int(0, (kh - 1) // 2 + 1), draw.int(0, (kw - 1) // 2 + 1))
        output_padding = (draw.int(0, stride[0] - 1), draw.int(0, stride[1] - 1))
        padding, output_padding = self.with_example(i, padding=padding, output_padding=output_padding)
        # keep the output non-empty: (n - 1)s - 2p + k + op >= 1 per dimension
        padding = tuple(min(p, ((n - 1) * s + k + op - 1) // 2) for p, n, s, k, op in
                        zip(padding, (h, w), stride, (kh, kw), output_padding))
        if padding != (0, 0) or i % 3 == 0:
            kwargs["padding"] = padding if padding[0] != padding[1] else padding[0]
        if output_padding != (0, 0):
            kwargs["output_padding"] = output_padding
        return Case((draw.randn(batch, c_in, h, w, dtype=dtype), draw.randn(c_in, c_out, kh, kw, dtype=dtype)),
                   kwargs)

    def reference(self, input, weight, bias=None, stride=1, padding=0, output_padding=0):
        return F.conv_transpose2d(input, weight, bias, stride, padding, output_padding)

    def mistakes(self, input, weight, bias=None, stride=1, padding=0, output_padding=0):
        s, p, op = pair(stride), pair(padding), pair(output_padding)
        yield NOT_FLIPPED, F.conv_transpose2d(input, weight.flip(-2, -1), bias, s, p, op)
        if bias is not None:
            yield BIAS_MISSING, F.conv_transpose2d(input, weight, None, s, p, op)
        if s != (1, 1):
            yield STRIDE_IGNORED, F.conv_transpose2d(input, weight, bias, 1, p, 0)
        if op != (0, 0):
            yield OUTPUT_PADDING_IGNORED, F.conv_transpose2d(input, weight, bias, s, p, 0)
            full = F.conv_transpose2d(input, weight, bias, s, 0, op)               # extra rows at the bottom/right
            moved = F.pad(full[..., :full.shape[-2] - op[0], :full.shape[-1] - op[1]], (op[1], 0, op[0], 0))
            yield OUTPUT_PADDING_TOP, moved[..., p[0]:moved.shape[-2] - p[0], p[1]:moved.shape[-1] - p[1]]
        if p != (0, 0):
            yield PADDING_IGNORED, F.conv_transpose2d(input, weight, bias, s, 0, op)
            yield PADDING_ADDED, F.pad(F.conv_transpose2d(input, weight, bias, s, 0, op), (p[1], p[1], p[0], p[0]))
        if weight.shape[0] == weight.shape[1] and weight.shape[0] > 1:
            yield WEIGHT_SWAPPED, F.conv_transpose2d(input, weight.transpose(0, 1), bias, s, p, op)


class ConvTranspose2dAsMatmul(Exercise):
    """conv_transpose2d_as_matmul(X, K): 2D X (h, w), 2D K (kh, kw), stride 1, no padding."""

    references = (*ref.TRANSPOSED, *ref.AUTOGRAD, *ref.MODELS)

    examples = ({"h": 3, "w": 3, "kh": 3, "kw": 3},   # the lesson's example: a 3×3 map back to 5×5
                {"h": 2, "w": 4, "kh": 3, "kw": 2})

    def make_case(self, draw, i):
        h, w, kh, kw = self.with_example(i, h=draw.int(1, 5), w=draw.int(1, 5), kh=draw.int(1, 4), kw=draw.int(1, 4))
        return Case((draw.randn(h, w, dtype=draw.dtype(i)), draw.randn(kh, kw, dtype=draw.dtype(i))))

    def reference(self, X, K):
        return F.conv_transpose2d(X[None, None], K[None, None])[0, 0]  # (h + kh - 1, w + kw - 1)

    def mistakes(self, X, K):
        yield NOT_FLIPPED, F.conv_transpose2d(X[None, None], K.flip(0, 1)[None, None])[0, 0]
        (h, w), (kh, kw) = X.shape, K.shape
        if h >= kh and w >= kw:
            yield (N_("matrix not transposed — that is a convolution, which shrinks the input"),
                   F.conv2d(X[None, None], K[None, None])[0, 0])


conv_transpose2d = ConvTranspose2d()
conv_transpose2d_as_matmul = ConvTranspose2dAsMatmul()


# -- check your understanding ----------------------------------------------------------------
upsampled_size = Question(
    lambda: shapes.conv_transpose_output_size(7, 4, 2, 1),
    slips=((N_("padding ignored: a transposed convolution removes p from each side, (n - 1)s - 2p + k"),
            lambda: shapes.conv_transpose_output_size(7, 4, 2)),
           (N_("the convolution's formula: a transposed convolution goes the other way"),
            lambda: shapes.conv_output_size(7, 4, 2, 1))))
output_padding_for_8 = Question(
    lambda: next(op for op in range(2) if shapes.conv_transpose_output_size(4, 3, 2, 1, op) == 8),
    slips=((N_("that gives 7: output_padding adds the row the stride dropped"), lambda: 0),))
transposed_weight_shape = Question(
    lambda: (16, 8, 3, 3),
    slips=((N_("a convolution's order: a transposed convolution's weight is (in, out, kh, kw)"),
            lambda: (8, 16, 3, 3)),))

"""Mistaken variants of a 2D convolution shared by the lessons' checks: torch's answer if the learner…

Each generator yields ``(label, answer)``; ``answer`` is what torch gives for the mistake, so
``diagnose.likely_mistake`` can name the first one a wrong output matches.
"""
import torch.nn.functional as F

from convlab.arguments import ntuple
from convlab.i18n import N_

FLIPPED = N_("kernel flipped — that is convolution; deep learning's 'convolution' slides the kernel "
              "as it is (cross-correlation)")
BIAS_MISSING = N_("bias missing — add bias[c] to every position of output channel c")
STRIDE_IGNORED = N_("stride ignored — move the window by stride, not by 1")
PADDING_IGNORED = N_("padding ignored — pad the input with zeros before sliding")
ONE_SIDED = N_("padding on one side only — pad p rows on top and bottom and p columns left and right")
PADDING_TWICE = N_("padding doubled — padding counts per side, so p zeros go on each side once")
DILATION_IGNORED = N_("dilation ignored — leave dilation - 1 gaps between kernel taps")
DILATION_OFF = N_("dilation off by one — dilation d leaves d - 1 gaps (d = 1 is an ordinary kernel)")
SWAPPED = N_("height and width values swapped — tuples are (h, w): the first entry is for rows")
NOT_SUMMED = N_("channels not summed — add the results of all input channels into one output channel")


def attempt(compute):
    """``compute()``, or None when torch rejects that variant for this case (not a candidate then)."""
    try:
        return compute()
    except (RuntimeError, ValueError, IndexError):
        return None


def pair(value):
    """(h, w) of a 2D argument given as an int or an (h, w) tuple, read as the kernels read it."""
    return ntuple(value, 2, "value")


def conv2d_mistakes(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Variants of ``F.conv2d(input, weight, bias, stride, padding, dilation, groups)`` for NCHW input:
    each mistake made within the groups (a grouped convolution's learner flips, drops the bias, ...
    as an ungrouped one's does)."""
    s, p, d = pair(stride), pair(padding), pair(dilation)

    def conv(**changed):
        params = dict(bias=bias, stride=s, padding=p, dilation=d, groups=groups)
        params.update(changed)
        x = params.pop("input", input)
        return attempt(lambda: F.conv2d(x, params.pop("weight", weight), **params))

    yield FLIPPED, conv(weight=weight.flip(-2, -1))
    if bias is not None:
        yield BIAS_MISSING, conv(bias=None)
    if s != (1, 1):
        yield STRIDE_IGNORED, conv(stride=1)
    if p != (0, 0):
        yield PADDING_IGNORED, conv(padding=0)
        for sides in ((0, p[1], 0, p[0]), (p[1], 0, p[0], 0)):
            yield ONE_SIDED, conv(input=F.pad(input, sides), padding=0)
        yield PADDING_TWICE, conv(padding=(2 * p[0], 2 * p[1]))
    if d != (1, 1):
        yield DILATION_IGNORED, conv(dilation=1)
        yield DILATION_OFF, conv(dilation=(d[0] + 1, d[1] + 1))
    for name, value in (("stride", s), ("padding", p), ("dilation", d)):
        if value[0] != value[1]:
            yield SWAPPED, conv(**{name: value[::-1]})
    c_out, c_in = weight.shape[0], weight.shape[1]
    if c_in > 1 and groups == 1:
        per_channel = F.conv2d(input.repeat(1, c_out, 1, 1), weight.reshape(c_out * c_in, 1, *weight.shape[2:]),
                               stride=s, padding=p, dilation=d, groups=c_out * c_in)  # (N, C_out*C_in, H', W')
        yield NOT_SUMMED, per_channel.reshape(input.shape[0], c_out, c_in, *per_channel.shape[2:])

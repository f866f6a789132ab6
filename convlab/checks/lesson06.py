"""Checks for lesson 06 (pooling): max_pool2d in three steps (windows, then padding and ceil_mode, then indices),
avg_pool2d with its divisors."""
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.questions import Question
from convlab.checks.variants import attempt, pair
from convlab.i18n import N_

STRIDE_DEFAULT = N_("stride defaults to kernel_size when it is None, not to 1")
CEIL_IGNORED = N_("ceil_mode ignored — with ceil_mode=True a last, partial window counts (round up)")
CEIL_ALWAYS = N_("rounded up — without ceil_mode the output size rounds down")
PADDING_IGNORED = N_("padding ignored — pad each side before pooling")


def _pool_case(draw, i, extra, edges=True):
    """A pooling case: (input, kernel_size) and keyword arguments covering stride, padding, ceil_mode
    (without `edges`: stride alone, no padding and the default floor)."""
    batch, channels = draw.int(1, 3), draw.int(1, 3)
    kernel = (draw.int(1, 3), draw.int(2, 4)) if i % 3 == 1 else draw.int(2, 3)
    kh, kw = pair(kernel)
    kwargs = {}
    choice = i % 4
    if choice == 0:
        kwargs["stride"] = None if draw.bool() else kernel
    elif choice == 1:
        kwargs["stride"] = (draw.int(1, 3), draw.int(1, 3))
    else:
        kwargs["stride"] = draw.int(1, 3)
    if edges and (choice in (1, 2) or draw.bool()):
        if choice == 1:
            kwargs["padding"] = (draw.int(0, kh // 2), draw.int(0, kw // 2))
        else:
            kwargs["padding"] = draw.int(0, min(kh, kw) // 2)
    if edges and (choice in (0, 2) or draw.bool()):
        kwargs["ceil_mode"] = choice != 3
    kwargs.update(extra)
    dh, dw = pair(extra.get("dilation", 1))
    h, w = dh * (kh - 1) + 1 + draw.int(0, 8), dw * (kw - 1) + 1 + draw.int(0, 8)
    if i == 0:  # odd sizes: a partial window, dropped or (ceil_mode) kept
        h, w, kernel, kwargs = 7, 5, 2, {"stride": None, **({"ceil_mode": True} if edges else {}), **extra}
    if kwargs.get("stride", 0) is None and draw.bool():
        del kwargs["stride"]  # the default
    return Case((draw.randn(batch, channels, h, w, dtype=draw.dtype(i)), kernel), kwargs)


def _pool_mistakes(pool, input, kernel_size, stride=None, padding=0, ceil_mode=False, **rest):
    """Variants common to both poolings: default stride, ceil_mode, padding."""
    def again(**changed):
        params = dict(stride=stride, padding=padding, ceil_mode=ceil_mode, **rest)
        params.update(changed)
        return attempt(lambda: pool(input, kernel_size, **params))

    if stride is None or pair(stride) == pair(kernel_size):
        yield STRIDE_DEFAULT, again(stride=1)
    yield (CEIL_IGNORED if ceil_mode else CEIL_ALWAYS), again(ceil_mode=not ceil_mode)
    if pair(padding) != (0, 0):
        yield PADDING_IGNORED, again(padding=0)


class MaxPool2d(Exercise):
    """max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False): step 3, the whole function, return_indices=True in every case."""

    references = ref.POOLING
    default_cases = 6

    def make_case(self, draw, i):
        """The whole function, return_indices=True in every case (max_pool2d_windows and
        max_pool2d_edges, the lesson's first two steps, check the values alone)."""
        extra = {"return_indices": True}
        if i % 5 == 4:
            extra["dilation"] = 2
        return _pool_case(draw, i, extra)

    def reference(self, input, kernel_size, **kwargs):
        return F.max_pool2d(input, kernel_size, **kwargs)

    def mistakes(self, input, kernel_size, **kwargs):
        values = {k: v for k, v in kwargs.items() if k != "return_indices"}
        for label, wrong in _pool_mistakes(F.max_pool2d, input, kernel_size, **values):
            yield label, wrong
        if pair(values.get("padding", 0)) != (0, 0):
            ph, pw = pair(values["padding"])
            padded = F.pad(input, (pw, pw, ph, ph))  # zeros, which can win the max
            rest = {k: v for k, v in values.items() if k != "padding"}
            yield (N_("padded with zeros — padding must never win the max (pad with -inf)"),
                   F.max_pool2d(padded, kernel_size, **rest))
        if pair(values.get("dilation", 1)) != (1, 1):
            yield N_("dilation ignored"), F.max_pool2d(input, kernel_size, **{**values, "dilation": 1})
        if kwargs.get("return_indices"):
            out, idx = F.max_pool2d(input, kernel_size, **values, return_indices=True)
            h, w = input.shape[-2:]
            ph, pw = pair(values.get("padding", 0))
            yield (N_("indices count positions of the padded input — count in the unpadded H x W plane"),
                   (out, (idx // w + ph) * (w + 2 * pw) + idx % w + pw))
            plane = torch.arange(input.shape[0] * input.shape[1]).reshape(input.shape[:2])[..., None, None]
            yield (N_("indices count over the whole tensor — they index the flattened H x W plane of each channel"),
                   (out, idx + plane * h * w))


class MaxPool2dWindows(MaxPool2d):
    """max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False): step 1, the windows: no padding, no ceil_mode, no indices."""

    def make_case(self, draw, i):
        """Step 1: kernel_size, stride (None: the window) and dilation; no padding, the floor, no indices."""
        extra = {}
        if i % 5 == 4:
            extra["dilation"] = 2
        elif i % 5 == 2:
            extra["dilation"] = (draw.int(1, 2), draw.int(1, 3))
        return _pool_case(draw, i, extra, edges=False)


class MaxPool2dEdges(MaxPool2d):
    """max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False): step 2, padding (never the max) and ceil_mode, no indices."""

    def make_case(self, draw, i):
        """Step 2: every case pads (with -inf) or rounds up (ceil_mode), or both; no indices. Case 1
        pads without ceil_mode where a window would hang over the edge: rounding up is wrong there."""
        if i == 1:
            shape = (draw.int(1, 2), draw.int(1, 3), 7, 6)  # width (6 + 2 - 3) / 2: 2 windows, not 3
            return Case((draw.randn(*shape, dtype=draw.dtype(i)), 3), {"stride": 2, "padding": 1})
        case = _pool_case(draw, i, {"dilation": 2} if i % 5 == 4 else {})
        if pair(case.kwargs.get("padding", 0)) == (0, 0) and not case.kwargs.get("ceil_mode"):
            case.kwargs["ceil_mode"] = True
        return case


class AvgPool2d(Exercise):
    """avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)."""

    references = ref.POOLING
    default_cases = 6

    def make_case(self, draw, i):
        extra = {}
        if i % 3 == 2:
            extra["count_include_pad"] = False
        elif i % 3 == 1 and draw.bool():
            extra["count_include_pad"] = True
        if i % 5 == 3:
            extra["divisor_override"] = draw.int(1, 5)
        case = _pool_case(draw, i, extra)
        if i % 3 == 2 and pair(case.kwargs.get("padding", 0)) == (0, 0):
            k = min(pair(case.args[1]))
            case.kwargs["padding"] = k // 2  # count_include_pad only matters with padding
        return case

    def reference(self, input, kernel_size, **kwargs):
        return F.avg_pool2d(input, kernel_size, **kwargs)

    def mistakes(self, input, kernel_size, **kwargs):
        yield from _pool_mistakes(F.avg_pool2d, input, kernel_size, **kwargs)
        include = kwargs.get("count_include_pad", True)
        if kwargs.get("divisor_override") is None:
            yield ((N_("padding left out of the divisor — count_include_pad=True divides by the whole window")
                    if include else N_("padding counted in the divisor — count_include_pad=False divides by "
                                       "the input positions in the window only")),
                   F.avg_pool2d(input, kernel_size, **{**kwargs, "count_include_pad": not include}))
        else:
            yield (N_("divisor_override ignored — divide every window's sum by divisor_override"),
                   F.avg_pool2d(input, kernel_size, **{**kwargs, "divisor_override": None}))


max_pool2d_windows = MaxPool2dWindows()
max_pool2d_edges = MaxPool2dEdges()
max_pool2d = MaxPool2d()
avg_pool2d = AvgPool2d()


# -- check your understanding ----------------------------------------------------------------
pooled_shape = Question(
    lambda: (8, 32, *shapes.pool_output_shape((56, 56), 3, 2, 1)),
    slips=((N_("padding ignored"), lambda: (8, 32, *shapes.pool_output_shape((56, 56), 3, 2))),
           (N_("stride ignored: stride 2 keeps every second window"),
            lambda: (8, 32, *shapes.pool_output_shape((56, 56), 3, 1, 1))),
           (N_("the channels changed: pooling keeps every channel"), lambda: (8, 1, *shapes.pool_output_shape(
               (56, 56), 3, 2, 1)))))
ceil_rows = Question(
    lambda: shapes.pool_output_size(14, 3, 2, ceil_mode=True),
    slips=((N_("floor instead of ceil: ceil_mode=True keeps a last window that starts inside the input"),
            lambda: shapes.pool_output_size(14, 3, 2, ceil_mode=False)),))
pool_parameters = Question(
    lambda: 0,
    slips=((N_("a pooling window takes the max of what it covers: it has no weights"), lambda: 3 * 3),))

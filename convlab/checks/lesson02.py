"""Checks for lesson 02 (padding and stride): pad in two steps (constant, then the other modes),
corr2d with stride and padding, conv_output_size."""
import numpy as np
import torch
import torch.nn.functional as F

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.core import Case, Exercise
from convlab.checks.guard import BANNED_ATEN_OPS
from convlab.checks.questions import PersonalQuestion, Question
from convlab.checks.variants import attempt, conv2d_mistakes
from convlab.i18n import N_, _

MODES = ("constant", "reflect", "replicate", "circular")


class Pad(Exercise):
    """pad(input, pad, mode="constant", value=None): torch's F.pad on the last one or two dims, step 2: reflect, replicate, circular."""

    references = ref.PADDING
    banned = BANNED_ATEN_OPS  # torch's padding is the very thing to write here
    modes = MODES[1:]  # the modes this check draws; the lesson grades constant padding first, on its own

    def make_case(self, draw, i):
        n = len(self.modes)
        mode = self.modes[i % n] if i < 2 * n else draw.choice(self.modes)
        # a 2-tuple pads the last dimension only; outside constant mode torch takes one for a 3D input only
        two = i % 5 == 2
        dims = 3 if two and mode != "constant" else draw.choice((3, 4))
        lead = (draw.int(1, 2), draw.int(1, 3)) if dims == 4 else (draw.int(1, 3),)  # (N, C) or (C,)
        h, w = draw.int(3, 7), draw.int(3, 7)
        x = draw.randn(*lead, h, w, dtype=draw.dtype(i))
        limit_h, limit_w = (h - 1, w - 1) if mode == "reflect" else (h, w)
        sides = (draw.int(0, min(3, limit_w)), draw.int(0, min(3, limit_w)),
                 draw.int(0, min(3, limit_h)), draw.int(0, min(3, limit_h)))
        if i % 3 == 1:
            sides = (sides[0], sides[0] + 1 if sides[0] < limit_w else 0, 0, sides[3])  # uneven sides
        if two:
            sides = sides[:2]
        if mode != "constant" and sum(sides) == 0:
            sides = (1, 0) if two else (1, 0, 0, 1)
        kwargs = {} if mode == "constant" and i % 2 == 0 else {"mode": mode}
        if mode == "constant" and i % 4 == 0:
            kwargs["value"] = round(float(draw.randn(1, dtype=torch.float64)) * 3, 2)
        return Case((x, sides), kwargs)

    def reference(self, input, pad, mode="constant", value=None):
        return F.pad(input, pad, mode=mode, value=value)

    def mistakes(self, input, pad, mode="constant", value=None):
        left, right, top, bottom = (*pad, 0, 0)[:4]
        order = N_("pad tuple read in the wrong order — it is (left, right, top, bottom): the last dimension first")
        for wrong in ((top, bottom, left, right), (right, left, bottom, top)):
            yield order, attempt(lambda: F.pad(input, wrong, mode=mode, value=value))
        if value:
            yield N_("value ignored — constant padding fills with value"), F.pad(input, pad)
        if mode == "reflect":
            arr = input.numpy()
            widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
            yield N_("edge repeated — 'reflect' mirrors around the edge without repeating it "
                     "(that would be 'symmetric')"), torch.from_numpy(np.pad(arr, widths, mode="symmetric"))
        for other in MODES:
            if other == mode:
                continue
            yield (_("looks like '{other}' padding, not '{mode}'").format(other=other, mode=mode),
                   attempt(lambda: F.pad(input, pad, mode=other)))


class PadConstant(Pad):
    """pad(input, pad, mode="constant", value=None): torch's F.pad on the last one or two dims, step 1: constant mode only."""

    modes = MODES[:1]


class Corr2d(Exercise):
    """corr2d(X, K, stride=1, padding=0): 2D X and K, int or (h, w) stride and padding."""

    references = (*ref.CORR2D, *ref.CONVOLUTION)

    def make_case(self, draw, i):
        h, w = draw.int(4, 11), draw.int(4, 11)
        kh, kw = draw.int(1, 4), draw.int(1, 4)
        kind = i % 5
        stride = (draw.int(1, 3), draw.int(1, 3)) if kind in (0, 3) else draw.int(1, 3)
        padding = (draw.int(0, 2), draw.int(0, 2)) if kind in (1, 3) else draw.int(0, 2)
        if kind == 0:
            stride = (2, 1) if i == 0 else stride
        if kind == 1:
            padding = (1, 2) if i == 1 else padding
        if kind == 2:
            stride, padding = draw.int(2, 3), draw.int(1, 2)
        kwargs = {}
        if stride not in (1, (1, 1)) or kind == 4:
            kwargs["stride"] = stride
        if padding not in (0, (0, 0)) or kind == 4:
            kwargs["padding"] = padding
        X, K = draw.randn(h, w, dtype=draw.dtype(i)), draw.randn(kh, kw, dtype=draw.dtype(i))
        return Case((X, K), kwargs)

    def reference(self, X, K, stride=1, padding=0):
        return F.conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]  # (H', W')

    def mistakes(self, X, K, stride=1, padding=0):
        for label, wrong in conv2d_mistakes(X[None, None], K[None, None], stride=stride, padding=padding):
            yield label, wrong[0, 0]


def _torch_output_size(size, kernel_size, stride, padding):
    """The length torch's conv1d produces (on the meta device: shapes only, no data)."""
    x = torch.empty(1, 1, size, device="meta")
    w = torch.empty(1, 1, kernel_size, device="meta")
    return int(F.conv1d(x, w, stride=stride, padding=padding).shape[-1])


class ConvOutputSize(Exercise):
    """conv_output_size(size, kernel_size, stride=1, padding=0) -> int."""

    references = ("convlab.shapes",)
    default_cases = 8

    def make_case(self, draw, i):
        size, k = draw.int(3, 40), draw.int(1, 7)
        stride, padding = draw.int(1, 4), draw.int(0, 3)
        if i == 0:
            size, k, stride, padding = 7, 3, 2, 0
        if i == 1:  # floor matters here: (n + 2p - k) is not a multiple of the stride
            stride, padding = 3, max(padding, 1)
            size = k + 3 * draw.int(1, 5) + 1
        size = max(size, k - 2 * padding)
        kwargs = {}
        if stride != 1 or i % 2:
            kwargs["stride"] = stride
        if padding != 0 or i % 2:
            kwargs["padding"] = padding
        return Case((size, k), kwargs)

    def reference(self, size, kernel_size, stride=1, padding=0):
        return _torch_output_size(size, kernel_size, stride, padding)

    def mistakes(self, size, kernel_size, stride=1, padding=0):
        n, k, s, p = size, kernel_size, stride, padding
        yield N_("forgot the + 1 — a size-n input has n - k + 1 positions for a size-k kernel"), (n + 2 * p - k) // s
        yield N_("padding counted once — padding p adds p on each side (n + 2p)"), (n + p - k) // s + 1
        yield N_("stride ignored — the output size is floor((n + 2p - k) / s) + 1"), n + 2 * p - k + 1
        yield N_("rounded up — the last window must fit, so round down"), -(-(n + 2 * p - k) // s) + 1
        yield N_("divided before subtracting — it is floor((n + 2p - k) / s) + 1"), (n + 2 * p) // s - k + 1


pad_constant = PadConstant()
pad = Pad()
corr2d = Corr2d()
conv_output_size = ConvOutputSize()


# -- check your understanding ----------------------------------------------------------------
def _strided(q, *, n=None, stride=True, padding=True, channels=None):
    """(1, C, H, W) of the strided question's numbers `q`, with what a slip leaves out."""
    side = q["n"] if n is None else n
    size = shapes.conv_output_shape((side, side), q["k"], stride=q["s"] if stride else 1,
                                    padding=q["p"] if padding else 0)
    return (1, q["c_out"] if channels is None else channels, *size)


def _strided_numbers(rng) -> dict:
    """A learner's numbers for `strided_shape`: padding at least the stride, so that no slip gives the
    answer (ignoring p, or counting it once, changes the size only when 2p >= s and p >= s)."""
    stride = rng.choice((2, 3))
    return {"n": rng.randrange(24, 66, 2), "k": rng.choice((3, 5, 7)), "s": stride,
            "p": rng.choice((stride, stride + 1)), "c_out": rng.choice((4, 6, 8, 12, 16))}


#: Each learner's own: a batch of side n, c_out kernels of k x k, stride s, padding p (`PersonalQuestion`).
strided_shape = PersonalQuestion(
    expected=_strided,
    slips=((N_("padding ignored: p zeros on each side make the input n + 2p wide"),
            lambda q: _strided(q, padding=False)),
           (N_("padding counted once: p is added on both sides, n + 2p"),
            lambda q: _strided(q, n=q["n"] - q["p"])),
           (N_("stride ignored: a stride of s keeps one window in s along each axis"),
            lambda q: _strided(q, stride=False)),
           (N_("the input's 3 channels kept: the output has one channel per filter"),
            lambda q: _strided(q, channels=3))),
    draw=lambda rng: _strided_numbers(rng),
    lesson={"n": 32, "k": 5, "s": 2, "p": 2, "c_out": 8},
    text=N_("strided_shape: a (1, 3, {n}, {n}) batch goes through a convolution with {c_out} output channels, "
            "a {k}×{k} kernel, stride {s} and padding {p}. What is the output's shape?"))
same_padding_7 = Question(
    lambda: shapes.same_padding(7)[0],
    slips=((N_("that is the total padding: it is split over the two sides"), lambda: 7 - 1),
           (N_("(n - k) / 2 keeps the size only when n = 2k - 1; solve n + 2p - k + 1 = n"), lambda: (15 - 7) // 2)))
floor_size = Question(
    lambda: shapes.conv_output_size(13, 3, stride=2),
    slips=((N_("the +1 forgotten: (n - k) / s + 1 windows"), lambda: (13 - 3) // 2),
           (N_("stride ignored: stride 2 keeps every second window"), lambda: shapes.conv_output_size(13, 3))))

"""The picture under a failing tensor check: the learner's output, torch's, and where they differ.

Shown in a notebook only (`convlab.checks.show`), for the failing case: a 2D map is drawn as it
is; a larger tensor by its 2D slice holding the largest error; a 1D one as a row. Signed values use
a diverging colour map centred on zero with a colour bar; the difference panel always does.
The figure's description (`convlab.viz.describe`) says where the two differ (`convlab.viz.mismatch`),
judged with the tolerance the check itself allows.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.colors import TwoSlopeNorm

from convlab.i18n import _
from convlab.viz.describe import describe, shape
from convlab.viz.mismatch import where_they_differ

DIVERGING = "RdBu_r"
MAX_SIDE = 64  # a larger map is cut to its 64 x 64 corner around the largest error


def _as_map(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(1, -1) if t.dim() == 1 else t


def worst_slice(got: torch.Tensor, want: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The 2D maps of `got` and `want` (same shape) holding the largest difference, and which they are."""
    got, want = got.detach().to("cpu", torch.float64), want.detach().to("cpu", torch.float64)
    if got.dim() <= 2:
        return _as_map(got), _as_map(want), ""
    index = int((got - want).abs().reshape(-1).argmax())
    lead = tuple(int(i) for i in torch.unravel_index(torch.tensor(index), got.shape)[:-2])
    where = "output[" + ", ".join(str(i) for i in lead) + ", :, :]"
    return got[lead], want[lead], where


def _window(got: torch.Tensor, want: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, str]:
    """At most MAX_SIDE x MAX_SIDE of the maps, around their largest difference."""
    h, w = got.shape
    if h <= MAX_SIDE and w <= MAX_SIDE:
        return got, want, ""
    index = int((got - want).abs().reshape(-1).argmax())
    i, j = divmod(index, w)
    top, left = max(0, min(i - MAX_SIDE // 2, h - MAX_SIDE)), max(0, min(j - MAX_SIDE // 2, w - MAX_SIDE))
    rows, cols = slice(top, top + MAX_SIDE), slice(left, left + MAX_SIDE)
    cut = _("rows {top}..{bottom}, columns {left}..{right}").format(top=top, bottom=rows.stop - 1, left=left,
                                                                  right=cols.stop - 1)
    return got[rows, cols], want[rows, cols], " " + cut


def _panel(fig, ax, values: torch.Tensor, title: str, limit: float, signed: bool) -> None:
    if signed:
        image = ax.imshow(values.numpy(), cmap=DIVERGING, norm=TwoSlopeNorm(0.0, -limit, limit))
    else:
        image = ax.imshow(values.numpy(), cmap="viridis", vmin=0.0, vmax=limit)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)


def differs(got: torch.Tensor, want: torch.Tensor, allowed: float) -> torch.Tensor:
    """Where `got` is off `want` by more than `allowed`; NaN counts as differing, the same infinity not."""
    return ~((got == want) | ((got - want).abs() <= allowed))


def allowed_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """The largest error the check allows `got` (`convlab.checks.compare.tolerance`, for its dtype)."""
    from convlab.checks.compare import tolerance

    return tolerance(got.dtype, want.detach().to("cpu", torch.float64))


def failure_figure(got: torch.Tensor, want: torch.Tensor, title: str = ""):
    """Three panels: your output, torch's, yours minus torch's (same colour scale for the first two)."""
    allowed = allowed_error(got, want)
    full_got, full_want, where = worst_slice(got, want)
    got2, want2, cut = _window(full_got, full_want)
    difference = got2 - want2
    limit = max(float(got2.abs().max()), float(want2.abs().max()), 1e-12)
    signed = bool((got2 < 0).any() or (want2 < 0).any())
    spread = max(float(difference.abs().max()), 1e-12)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    _panel(fig, axes[0], got2, _("your output"), limit, signed)
    _panel(fig, axes[1], want2, _("torch's output"), limit, signed)
    _panel(fig, axes[2], difference, _("yours − torch's"), spread, True)
    fig.suptitle(f"{title}{' ' + where if where else ''}{cut}", fontsize=10)
    fig.tight_layout()
    return describe(fig, _said(got, want, allowed, full_got, full_want, where, cut))


def _said(got, want, allowed: float, got2, want2, where: str, cut: str) -> str:
    """The picture in words: the maps shown, and where they differ."""
    pattern = where_they_differ(differs(got2, want2, allowed).numpy())
    if want.dim() > 1:
        text = _("Your output, torch's output and yours − torch's as {shape} maps: {pattern}.").format(
            shape=shape(want2.shape), pattern=pattern)
    else:
        text = _("Your output, torch's output and yours − torch's as rows of {length} values: {pattern}.").format(
            length=want2.shape[-1], pattern=pattern)
    if where:
        maps = differs(got.detach().to("cpu", torch.float64), want.detach().to("cpu", torch.float64), allowed)
        per_map = maps.reshape(-1, *maps.shape[-2:]).flatten(1).any(dim=1)
        text += " " + _("The map is {where}, the one with the largest difference; {differ} of {maps} maps "
                        "differ.").format(where=where, differ=int(per_map.sum()), maps=per_map.numel())
    if cut:
        text += " " + _("The panels show {cut}.").format(cut=cut.strip())
    return text

"""Number grids: draw a small 2D tensor as labelled cells, with windows highlighted on top."""
import matplotlib.patches as patches
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _


def as_array(values):
    """A 2D float numpy array from a tensor, array or nested list (figures never touch autograd)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    array = np.asarray(values, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"values must be 2D, got shape={array.shape}")
    return array


#: Signed values (kernels, gradients, differences) are drawn on this, centred on zero, with a colour bar.
DIVERGING = "RdBu_r"


def _format(value):
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2g}"


def draw_grid(ax, values, title=None, cmap="Blues", numbers=True, vmin=None, vmax=None,
              mask=None, fontsize=None, hide_masked=True):
    """Draw `values` as a grid of cells, one number per cell, row 0 at the top.

    `mask` (same shape, bool) greys out cells, e.g. padding that is not part of the input;
    their numbers are left out unless `hide_masked` is False. Values of both signs, without a
    range of the caller's, are drawn on DIVERGING centred on zero, with a colour bar.
    """
    array = as_array(values)
    rows, cols = array.shape
    signed = vmin is None and vmax is None and np.nanmin(array) < 0 < np.nanmax(array)
    if signed:
        limit = float(np.nanmax(np.abs(array)))
        cmap, vmin, vmax = DIVERGING, -limit, limit
    image = ax.imshow(array, cmap=cmap, vmin=vmin, vmax=vmax)
    if mask is not None:
        grey = np.zeros((rows, cols, 4))
        grey[np.asarray(mask, dtype=bool)] = (0.85, 0.85, 0.85, 0.75 if hide_masked else 0.55)
        ax.imshow(grey)
    if numbers and rows * cols <= 400:
        size = fontsize or max(6, min(12, 120 // max(rows, cols)))
        low = np.nanmin(array) if vmin is None else vmin  # text turns white where the colour is dark
        high = np.nanmax(array) if vmax is None else vmax
        hidden = np.zeros((rows, cols), bool) if mask is None or not hide_masked else np.asarray(mask, dtype=bool)
        for r in range(rows):
            for c in range(cols):
                if hidden[r, c]:
                    continue
                if signed:  # both ends of a diverging map are dark
                    shade = abs(array[r, c]) / high if high > 0 else 0.0
                else:
                    shade = (array[r, c] - low) / (high - low) if high > low else 0.0
                colour = "white" if shade > 0.6 else "black"
                ax.text(c, r, _format(array[r, c]), ha="center", va="center", fontsize=size, color=colour)
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="0.4", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(range(cols) if cols <= 16 else [])
    ax.set_yticks(range(rows) if rows <= 16 else [])
    ax.set_xlabel(_("column"))
    ax.set_ylabel(_("row"))
    if title:
        ax.set_title(title)
    if signed:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


def outline(ax, top, left, height, width, colour="tab:red", linewidth=2.5, fill=False, alpha=0.25, inset=0.0):
    """Outline the cells rows top..top+height-1, columns left..left+width-1.

    `inset` (in cells) pulls the border inwards, so neighbouring windows' borders stay apart.
    """
    ax.add_patch(patches.Rectangle((left - 0.5 + inset, top - 0.5 + inset), width - 2 * inset,
                                   height - 2 * inset, fill=False, edgecolor=colour, linewidth=linewidth))
    if fill:
        ax.add_patch(patches.Rectangle((left - 0.5, top - 0.5), width, height,
                                       facecolor=colour, alpha=alpha, edgecolor="none"))


def mark_cells(ax, cells, colour="tab:red", linewidth=2.0):
    """Outline single cells given as (row, col) pairs, e.g. the taps of a dilated kernel."""
    for r, c in cells:
        outline(ax, r, c, 1, 1, colour=colour, linewidth=linewidth, fill=True)


def figure(ncols, width=3.2, height=3.2, ratios=None):
    """A row of `ncols` axes sized for small grids."""
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height),
                             gridspec_kw={"width_ratios": ratios} if ratios else None,
                             constrained_layout=True)
    return fig, np.atleast_1d(axes)

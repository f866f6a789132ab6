"""Lesson 02 pictures: padding around the input, the padding modes, and where strided windows land."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _, ngettext
from convlab.viz.describe import describe, shape
from convlab.viz.grid import draw_grid, figure, outline

MODES = ("constant", "reflect", "replicate", "circular")


def _pad2d(X, padding, mode):
    """Pad a 2D tensor by `padding` on every side with the course's reference `pad`."""
    from convlab.functional import pad

    return pad(X[None, None], (padding,) * 4, mode=mode)[0, 0]  # (H + 2p, W + 2p)


def _padding_mask(shape, padding):
    mask = np.ones(shape, dtype=bool)
    mask[padding:shape[0] - padding, padding:shape[1] - padding] = False
    return mask


def padding_modes_figure(X, padding=2):
    """The same input padded by each mode; the original input is outlined, padding greyed."""
    X = torch.as_tensor(X, dtype=torch.float64)
    fig, axes = figure(len(MODES), width=3.4, height=3.6)
    for ax, mode in zip(axes, MODES):
        padded = _pad2d(X, padding, mode)
        title = _("zeros (constant)") if mode == "constant" else mode
        draw_grid(ax, padded, title=f"{title}\n{tuple(X.shape)} -> {tuple(padded.shape)}", cmap="viridis",
                  vmin=float(X.min()), vmax=float(X.max()), mask=_padding_mask(padded.shape, padding), hide_masked=False)
        outline(ax, padding, padding, X.shape[0], X.shape[1], colour="white", linewidth=2.5)
    return describe(fig, _("Input {input} padded by {padding} on every side to {padded} in four modes: zeros "
                           "(constant), reflect, replicate and circular; the input is outlined, the padding "
                           "greyed.").format(
        input=shape(X.shape), padding=padding, padded=shape(padded.shape)))


def window_positions(size, kernel_size, stride, padding):
    """Start index (in padded coordinates) of every window along one dimension."""
    from convlab.shapes import conv_output_size

    count = conv_output_size(size, kernel_size, stride=stride, padding=padding)
    return [i * stride for i in range(count)]


def show_windows(size=7, kernel_size=3, stride=2, padding=1):
    """A (size, size) input padded and swept by a kernel: one dot per window start, first window outlined.

    Cells that no window ever covers are hatched: that is the remainder the floor in
    floor((n + 2p - k) / s) + 1 throws away.
    """
    starts = window_positions(size, kernel_size, stride, padding)
    full = size + 2 * padding
    covered = np.zeros(full, dtype=bool)
    for start in starts:
        covered[start:start + kernel_size] = True
    fig, (ax,) = figure(1, width=5.0, height=5.0)
    shade = np.zeros((full, full))
    shade[padding:padding + size, padding:padding + size] = 1.0
    draw_grid(ax, shade, numbers=False, cmap="Blues", vmin=0, vmax=2.5,
              title=_("n={n}, k={k}, s={s}, p={p}: output {out}×{out}").format(
                  n=size, k=kernel_size, s=stride, p=padding, out=len(starts)))
    for r in starts:
        for c in starts:
            ax.plot(c + (kernel_size - 1) / 2, r + (kernel_size - 1) / 2, "o", color="tab:red", markersize=6)
    outline(ax, starts[0], starts[0], kernel_size, kernel_size, colour="tab:red", fill=True)
    if len(starts) > 1:
        outline(ax, starts[0], starts[1], kernel_size, kernel_size, colour="tab:orange")
    missed = ~covered
    for r in range(full):
        for c in range(full):
            if missed[r] or missed[c]:
                ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                           edgecolor="0.45", linewidth=0))
    ax.set_xlabel(_("column (padded input; white border = padding)\n"
                    "dots = window centres, hatched = never covered"))
    text = _("Input {n}×{n} padded by {p} to {full}×{full} and swept by a kernel of {k}×{k} with stride {s}: "
             "{out}×{out} windows, a dot at the centre of each, the first one filled, the next one outlined.").format(
        n=size, p=padding, full=full, k=kernel_size, s=stride, out=len(starts))
    if missed.any():
        text += " " + ngettext("{missed} row and {missed} column are never covered (hatched).",
                               "{missed} rows and {missed} columns are never covered (hatched).",
                               int(missed.sum())).format(missed=int(missed.sum()))
    return describe(fig, text)


def stride_explorer():
    """Sliders for input size, kernel size, stride and padding; the picture and the output size follow."""
    import ipywidgets as widgets

    def draw(size, kernel_size, stride, padding):
        if kernel_size > size + 2 * padding:
            print(_("kernel_size={k} does not fit in the padded input ({padded})").format(k=kernel_size,
                                                                                padded=size + 2 * padding))
            return
        show_windows(size, kernel_size, stride, padding)
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(
        draw,
        size=widgets.IntSlider(value=7, min=3, max=12, description="n"),
        kernel_size=widgets.IntSlider(value=3, min=1, max=7, description="k"),
        stride=widgets.IntSlider(value=2, min=1, max=4, description="s"),
        padding=widgets.IntSlider(value=1, min=0, max=3, description="p"),
    )

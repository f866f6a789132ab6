"""Lesson 06 pictures: pooling windows on one channel, and what ceil_mode adds at the edge."""
import matplotlib.pyplot as plt
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, listed, shape
from convlab.viz.grid import draw_grid, figure, outline

_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def show_pooling(X, kernel_size=2, stride=None, padding=0, ceil_mode=False, mode="max", window=None):
    """A 2D input with its pooling windows outlined, the winner of each max window filled, and the output.

    Windows that hang over the edge (padding, or the extra ones `ceil_mode` adds) are drawn too.
    With `window` (an index, row-major over the output) only that window is coloured, so
    overlapping windows stay readable; the others are thin grey lines.
    """
    from convlab.functional import avg_pool2d, max_pool2d

    X = torch.as_tensor(X, dtype=torch.float64)
    stride = kernel_size if stride is None else stride
    if mode == "max":
        Y, idx = max_pool2d(X[None, None], kernel_size, stride, padding, ceil_mode=ceil_mode, return_indices=True)
        Y, idx = Y[0, 0], idx[0, 0]  # (H', W') values and flat indices into the (H, W) input
    else:
        Y, idx = avg_pool2d(X[None, None], kernel_size, stride, padding, ceil_mode=ceil_mode)[0, 0], None
    h, w = X.shape
    fig, (ax_x, ax_y) = figure(2, width=4.2, height=4.2, ratios=[w + 2 * padding + 2, Y.shape[1] + 1])
    draw_grid(ax_x, X, cmap="Greys", vmin=0, vmax=4 * float(X.abs().max()) or 1.0,  # light cells: colour is for windows
              title=_("input {shape}\nwindow size {k}, stride {stride}, padding {padding}").format(
                  shape=tuple(X.shape), k=kernel_size, stride=stride, padding=padding)
              + (", ceil_mode" if ceil_mode else ""))
    chosen = None if window is None else min(window, Y.numel() - 1)  # past the last window: the last
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            number = i * Y.shape[1] + j
            colour = "0.6" if chosen not in (None, number) else (
                "tab:red" if chosen == number else _COLOURS[number % len(_COLOURS)])
            outline(ax_x, i * stride - padding, j * stride - padding, kernel_size, kernel_size,
                    colour=colour, linewidth=3.0 if chosen == number else 2.0, inset=0.08)
            if idx is not None and chosen in (None, number):
                flat = int(idx[i, j])
                outline(ax_x, flat // w, flat % w, 1, 1, colour=colour, linewidth=0, fill=True, alpha=0.45)
    reach_h = (Y.shape[0] - 1) * stride - padding + kernel_size
    reach_w = (Y.shape[1] - 1) * stride - padding + kernel_size
    right, bottom = max(w, reach_w), max(h, reach_h)
    for r in range(-padding, bottom):
        for c in range(-padding, right):
            if not (0 <= r < h and 0 <= c < w):  # padding or ceil_mode overhang: not part of the input
                ax_x.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                             edgecolor="0.7", linewidth=0))
    ax_x.set_xlim(-0.5 - padding, right - 0.5)
    ax_x.set_ylim(bottom - 0.5, -0.5 - padding)
    draw_grid(ax_y, Y, title=_("{mode} pool output {shape}").format(mode=mode, shape=tuple(Y.shape)), cmap="Greens")
    if chosen is not None:
        i, j = divmod(chosen, Y.shape[1])
        outline(ax_y, i, j, 1, 1, colour="tab:red")
    return describe(fig, _pooling_said(X, Y, mode, kernel_size, stride, padding, ceil_mode, chosen,
                                       overhang=right > w or bottom > h or padding > 0))


def _pooling_said(X, Y, mode, kernel_size, stride, padding, ceil_mode, chosen, overhang) -> str:
    """`show_pooling`'s picture in words."""
    text = _("Input {input} with its {count} {mode} pooling windows outlined (size {k}, stride {stride}, padding "
             "{padding}{ceil}), and the output {output}.").format(
        input=shape(X.shape), count=Y.numel(), mode=mode, k=kernel_size, stride=stride, padding=padding,
        ceil=_(", ceil_mode") if ceil_mode else "", output=shape(Y.shape))
    if mode == "max":
        text += " " + _("The maximum of each window is filled in its colour.")
    if chosen is not None:
        text += " " + _("Window {window} is drawn in red, the others in grey.").format(window=chosen)
    if overhang:
        text += " " + _("Cells outside the input (padding, or windows hanging over the edge) are hatched.")
    return text


def pooling_explorer(X):
    """Sliders for kernel size, stride and padding, and a ceil_mode switch, over the same input."""
    import ipywidgets as widgets

    X = torch.as_tensor(X, dtype=torch.float64)

    def draw(kernel_size, stride, padding, ceil_mode, mode, window):
        if padding > kernel_size // 2:
            print(_("padding={padding} must be at most kernel_size // 2 = {half} (torch's rule)").format(
                padding=padding, half=kernel_size // 2))
            return
        show_pooling(X, kernel_size, stride, padding, ceil_mode, mode, window)
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(
        draw,
        kernel_size=widgets.IntSlider(value=2, min=1, max=4, description=_("window size")),
        stride=widgets.IntSlider(value=2, min=1, max=4, description=_("stride")),
        padding=widgets.IntSlider(value=0, min=0, max=2, description=_("padding")),
        ceil_mode=widgets.Checkbox(value=False, description="ceil_mode"),
        mode=widgets.ToggleButtons(options=["max", "avg"], description=_("mode")),
        window=widgets.IntSlider(value=0, min=0, max=24, description=_("window")),
    )


def show_feature_pooling(image, sizes=(1, 2, 4, 8)):
    """A photo max-pooled with growing windows: resolution drops, strong responses survive."""
    from convlab.functional import max_pool2d

    image = torch.as_tensor(image, dtype=torch.float32)
    fig, axes = figure(len(sizes), width=3.0, height=3.3)
    panels = []
    for ax, k in zip(axes, sizes):
        pooled = max_pool2d(image[None, None], k)[0, 0] if k > 1 else image  # (H/k, W/k)
        panels.append(_("{k}×{k} windows: {shape}").format(k=k, shape=shape(pooled.shape)))
        ax.imshow(pooled.numpy(), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(_("max pool {k}×{k}: {shape}").format(k=k, shape=tuple(pooled.shape)))
        ax.set_xlabel(_("column"))
        ax.set_ylabel(_("row"))
    return describe(fig, _("A grey photo {input} max-pooled with growing windows: {panels}; the resolution falls, "
                           "strong bright details survive.").format(input=shape(image.shape), panels=listed(panels)))


def random_grid(height, width, seed=0):
    """Small random integers (0..9), not a monotone range, so the max is not always in one corner."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 10, (height, width), generator=generator).double()


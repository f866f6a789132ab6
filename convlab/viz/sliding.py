"""Lesson 01 pictures: one kernel sliding over one grey image, and edge detection on a photo."""
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import cbook

from convlab.i18n import _
from convlab.viz.describe import describe, listed, shape
from convlab.viz.grid import as_array, draw_grid, figure, outline


def load_photo(size=128):
    """Grace Hopper's portrait from matplotlib's bundled sample data, grey, (size, size), values in [0, 1]."""
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        rgb = plt.imread(handle, format="jpeg")  # (H, W, 3) uint8
    grey = torch.from_numpy(rgb.astype(np.float32).mean(axis=2) / 255.0)  # (H, W)
    side = min(grey.shape)
    grey = grey[:side, (grey.shape[1] - side) // 2:][:, :side]  # square crop, (side, side)
    step = max(1, side // size)
    return grey[::step, ::step][:size, :size].contiguous()


def show_window(X, K, row, col, Y=None):
    """Input with the window at (row, col), the kernel, and the output with that one cell filled in.

    Below the grids, the multiply-and-sum that produces the output cell is written out.
    """
    from convlab.functional import corr2d

    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    Y = corr2d(X, K) if Y is None else Y
    kh, kw = K.shape
    shown = np.full(tuple(Y.shape), np.nan)
    flat = row * Y.shape[1] + col
    shown.reshape(-1)[: flat + 1] = as_array(Y).reshape(-1)[: flat + 1]  # cells computed so far

    fig, (ax_x, ax_k, ax_y) = figure(3, ratios=[X.shape[1], K.shape[1] + 1, Y.shape[1]])
    draw_grid(ax_x, X, title=_("input X {shape}").format(shape=tuple(X.shape)))
    outline(ax_x, row, col, kh, kw, fill=True)
    draw_grid(ax_k, K, title=_("kernel K {shape}").format(shape=tuple(K.shape)), cmap="Oranges")
    draw_grid(ax_y, np.nan_to_num(shown, nan=0.0), title=_("output Y {shape}").format(shape=tuple(Y.shape)), cmap="Greens",
              vmin=float(Y.min()), vmax=float(Y.max()), mask=np.isnan(shown))
    outline(ax_y, row, col, 1, 1)
    window = X[row:row + kh, col:col + kw]
    terms = " + ".join(f"{a:.0f}·{b:.0f}" for a, b in zip(window.reshape(-1).tolist(), K.reshape(-1).tolist()))
    written = f"Y[{row}, {col}] = {terms} = {float(Y[row, col]):.0f}"
    fig.suptitle(written, fontsize=11)
    return describe(fig, _("Input X {input} with the {kernel} window at row {row}, column {col} outlined, kernel K "
                           "{kernel}, and output Y {output} filled in up to that cell: {sum}.").format(
        input=shape(X.shape), kernel=shape(K.shape), row=row, col=col, output=shape(Y.shape), sum=written))


def sliding_explorer(X, K):
    """A slider over output positions: watch the window move and the output fill in, one cell per step."""
    import ipywidgets as widgets

    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    out_w = X.shape[1] - K.shape[1] + 1
    steps = (X.shape[0] - K.shape[0] + 1) * out_w

    def draw(step):
        show_window(X, K, step // out_w, step % out_w)
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(draw, step=widgets.IntSlider(value=0, min=0, max=steps - 1,
                                                          description=_("position")))


def show_responses(image, kernels, corr=None):
    """The photo and its response to each kernel in `kernels` (a dict name -> 2D kernel).

    Red and blue are positive and negative responses: an edge detector lights up only where the
    brightness changes in the direction the kernel measures.
    """
    if corr is None:
        from convlab.functional import corr2d as corr
    fig, axes = figure(len(kernels) + 1, width=3.4, height=3.6)
    axes[0].imshow(as_array(image), cmap="gray")
    axes[0].set_title(_("input {shape}").format(shape=tuple(image.shape)))
    for ax, (name, kernel) in zip(axes[1:], kernels.items()):
        response = as_array(corr(image, torch.as_tensor(kernel, dtype=image.dtype)))
        limit = float(np.percentile(np.abs(response), 99.5)) or 1.0  # a few pixels must not wash out the rest
        shown = ax.imshow(response, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(_("{name}\noutput {shape}").format(name=name, shape=response.shape))
        fig.colorbar(shown, ax=ax, shrink=0.7)
    for ax in axes:
        ax.set_xlabel(_("column"))
        ax.set_ylabel(_("row"))
    return describe(fig, _("A grey photo {input} and its response to each of {count} kernels ({names}): red where "
                           "the response is positive, blue where it is negative.").format(
        input=shape(image.shape), count=len(kernels), names=listed(kernels)))


def flip_figure(X, K):
    """Cross-correlation against true convolution (kernel flipped in both axes) on the same input."""
    from convlab.functional import corr2d

    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    flipped = torch.flip(K, dims=(0, 1))
    fig, axes = figure(4)
    draw_grid(axes[0], K, title=_("kernel K"), cmap="Oranges")
    draw_grid(axes[1], corr2d(X, K), title=_("cross-correlation with K"), cmap="Greens")
    draw_grid(axes[2], flipped, title=_("K flipped (both axes)"), cmap="Oranges")
    convolved = corr2d(X, flipped)
    draw_grid(axes[3], convolved, title=_("convolution with K\n= correlation with flipped K"), cmap="Purples")
    return describe(fig, _("Kernel K {kernel}, the input's cross-correlation with K ({output}), K flipped in both "
                           "axes, and the convolution with K ({output}), which is the correlation with flipped "
                           "K.").format(
        kernel=shape(K.shape), output=shape(convolved.shape)))

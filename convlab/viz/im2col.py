"""Lesson 07 pictures: the im2col matrix, the unrolled (doubly block Toeplitz) kernel matrix, and an explorer for its size."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.matrices import conv_matrix, im2col
from convlab.viz.describe import describe, listed, shape
from convlab.viz.grid import as_array, draw_grid, figure, outline


def _block_lines(ax, rows, cols, block_rows, block_cols):
    """Thin lines between the blocks of a block matrix."""
    for r in range(block_rows, rows, block_rows):
        ax.axhline(r - 0.5, color="tab:red", linewidth=1.2)
    for c in range(block_cols, cols, block_cols):
        ax.axvline(c - 0.5, color="tab:red", linewidth=1.2)


def im2col_figure(X, K):
    """Input with its first window, the kernel as a row, the im2col columns, and the output they give."""
    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    cols = im2col(X, K.shape)                       # (kh*kw, H'*W')
    out = (K.reshape(1, -1) @ cols)                 # (1, H'*W')
    Ho, Wo = X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    fig, axes = figure(4, width=3.3, height=3.6, ratios=[1, 0.35, 1, 0.8])
    draw_grid(axes[0], X, title=_("input {shape}\nfirst window outlined").format(shape=tuple(X.shape)))
    outline(axes[0], 0, 0, *K.shape)
    draw_grid(axes[1], K.reshape(-1, 1), title=_("kernel,\nflattened"), cmap="Oranges")
    axes[1].set_xlabel("")
    draw_grid(axes[2], cols, title=_("im2col: one window per column\n{shape}").format(shape=tuple(cols.shape)))
    outline(axes[2], 0, 0, cols.shape[0], 1)
    axes[2].set_xlabel(_("output position (row-major)"))
    axes[2].set_ylabel(_("position inside the window"))
    draw_grid(axes[3], out.reshape(Ho, Wo), title=_("kernel row @ columns\n-> output {shape}").format(shape=(Ho, Wo)), cmap="Greens")
    return describe(fig, _("Input {input} with its first {kernel} window outlined, the kernel flattened to a column "
                           "of {taps}, the im2col matrix {columns} with one window per column, and the output "
                           "{output} = kernel row @ columns.").format(
        input=shape(X.shape), kernel=shape(K.shape), taps=K.numel(), columns=shape(cols.shape),
        output=shape((Ho, Wo))))


def conv_matrix_figure(K, input_size, transpose=False, ax=None):
    """The unrolled kernel matrix as an image, kernel values written in, block boundaries in red.

    Drawn on the caller's `ax`, the figure is the caller's to describe."""
    K = torch.as_tensor(K, dtype=torch.float64)
    H, W = input_size
    M = conv_matrix(K, (H, W))                      # (H'*W', H*W)
    Wo = W - K.shape[1] + 1
    array = as_array(M.T if transpose else M)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(min(14, 0.42 * array.shape[1] + 2), min(9, 0.42 * array.shape[0] + 1.8)),
                               constrained_layout=True)
    else:
        fig = ax.figure
    limit = np.abs(array).max() or 1.0
    shown = np.where(array == 0, np.nan, array)     # zeros left white: the matrix is mostly empty
    ax.imshow(shown, cmap="coolwarm", vmin=-limit, vmax=limit)
    if array.size <= 600:
        for r, c in zip(*np.nonzero(array)):
            ax.text(c, r, f"{array[r, c]:.2g}", ha="center", va="center", fontsize=7)
    rows, cols = array.shape
    if transpose:
        _block_lines(ax, rows, cols, W, Wo)
        ax.set_xlabel(_("position in the {h}×{w} map (row-major)").format(h=H - K.shape[0] + 1, w=Wo))
        ax.set_ylabel(_("output pixel of the {h}×{w} map (row-major)").format(h=H, w=W))
        ax.set_title(_("transposed matrix {rows}×{cols}").format(rows=rows, cols=cols))
    else:
        _block_lines(ax, rows, cols, Wo, W)
        ax.set_xlabel(_("input pixel of the {h}×{w} image (row-major)").format(h=H, w=W))
        ax.set_ylabel(_("output position (row-major)"))
        ax.set_title(_("unrolled kernel {rows}×{cols}: {nonzero} non-zeros of {size}; "
                       "red lines: a {grid_rows}×{grid_cols} grid of {block_rows}×{block_cols} blocks").format(
            rows=rows, cols=cols, nonzero=int((array != 0).sum()), size=array.size,
            grid_rows=H - K.shape[0] + 1, grid_cols=H, block_rows=Wo, block_cols=W))
    ax.set_xticks(range(0, cols, max(1, cols // 25)))
    ax.set_yticks(range(0, rows, max(1, rows // 25)))
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.grid(False)
    if not own:
        return fig
    said = dict(rows=rows, cols=cols, kernel=shape(K.shape), h=H, w=W, oh=H - K.shape[0] + 1, ow=Wo,
                nonzero=int((array != 0).sum()), size=array.size)
    if transpose:
        return describe(fig, _("The transposed matrix, {rows}×{cols}, of a {kernel} kernel on an image of {h}×{w}: it "
                               "maps the {oh}×{ow} output back to {h}×{w} pixels; {nonzero} of its {size} entries "
                               "are non-zero, zeros are white.").format(**said))
    return describe(fig, _("The unrolled kernel matrix, {rows}×{cols}, of a {kernel} kernel on an image of "
                           "{h}×{w}: one row per output position, {nonzero} of its {size} entries non-zero, zeros white, in a "
                           "{oh}×{h} grid of {ow}×{w} blocks split by red lines.").format(**said))


def conv_matrix_explorer():
    """Sliders for image and kernel size: the matrix grows like (H'·W')×(H·W), each row keeps k² non-zeros."""
    import ipywidgets as widgets

    def show(image_size=5, kernel_size=3):
        if kernel_size > image_size:
            print(_("kernel_size={k} does not fit an image of size {size}").format(k=kernel_size, size=image_size))
            return
        K = torch.arange(1.0, kernel_size ** 2 + 1).reshape(kernel_size, kernel_size)
        M = conv_matrix(K, (image_size, image_size))
        dense = M.numel()
        print(_("matrix {shape}: {entries} entries, {nonzero} non-zero ({percent}%); im2col needs {values} values").format(
            shape=tuple(M.shape), entries=dense, nonzero=int((M != 0).sum()),
            percent=f"{100 * (M != 0).float().mean():.1f}", values=K.numel() * M.shape[0]))
        conv_matrix_figure(K, (image_size, image_size))
        plt.show()

    return widgets.interact(show, image_size=widgets.IntSlider(5, 3, 10, description=_("image n")),
                            kernel_size=widgets.IntSlider(3, 1, 5, description=_("kernel k")))


def timing_figure(timings):
    """Bar chart of seconds per call, log scale: {name: seconds}."""
    fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    names, seconds = list(timings), [timings[n] for n in timings]
    bars = ax.barh(names, seconds, color=["tab:gray", "tab:blue", "tab:green"][:len(names)])
    ax.set_xscale("log")
    ax.set_xlabel(_("seconds per call (log scale)"))
    ax.set_title(_("the same convolution, three implementations"))
    for bar, s in zip(bars, seconds):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {s * 1e3:.2f} ms", va="center")
    ax.invert_yaxis()
    return describe(fig, _("Seconds per call of the same convolution, log scale: {timings}.").format(
        timings=listed(f"{name} {s * 1e3:.2f} ms" for name, s in zip(names, seconds))))

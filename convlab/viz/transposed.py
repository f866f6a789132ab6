"""Lesson 09 pictures: transposed convolution as scattered kernels, its output size, and checkerboard overlap."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.naive import scatter_add
from convlab.viz.describe import describe, shape
from convlab.viz.grid import draw_grid, figure, outline


def scatter_figure(X, K, stride=1):
    """One panel per input pixel (its scaled kernel placed in the output), then their sum."""
    out, pieces = scatter_add(X, K, stride)
    fig, axes = figure(len(pieces) + 1, width=2.4, height=2.8)
    limit = float(out.abs().max())
    for ax, ((i, j), piece) in zip(axes, pieces):
        draw_grid(ax, piece, title=f"X[{i},{j}]={float(X[i, j]):g} × K", cmap="coolwarm", vmin=-limit, vmax=limit)
        outline(ax, i * stride, j * stride, *K.shape)
    draw_grid(axes[-1], out, title=_("sum = output"), cmap="coolwarm", vmin=-limit, vmax=limit)
    return describe(fig, _("A transposed convolution as scattered copies of the {kernel} kernel: one panel per input "
                           "value X[i, j] ({count} of them), the kernel times that value placed at row i·{stride}, "
                           "column j·{stride} of the {output} output, then their sum, the output.").format(
        kernel=shape(K.shape), count=len(pieces), stride=stride, output=shape(out.shape)))


def overlap(size, kernel_size, stride):
    """How many kernel copies land on each output pixel when every input pixel is 1 (2D, square)."""
    from convlab.functional import conv_transpose2d

    ones = torch.ones(1, 1, size, size, dtype=torch.float64)
    return conv_transpose2d(ones, torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64),
                            stride=stride)[0, 0]  # (H_out, W_out)


def checkerboard_figure(size=4, stride=2, kernel_sizes=(3, 4)):
    """Overlap counts for kernels that stride does (even pattern) and does not (checkerboard) divide."""
    fig, axes = figure(len(kernel_sizes), width=4.2, height=4.4)
    panels = []
    for ax, k in zip(axes, kernel_sizes):
        counts = overlap(size, k, stride)
        even = k % stride == 0
        draw_grid(ax, counts, cmap="magma", vmin=0, vmax=float(counts.max()) + 1, fontsize=7,
                  title=_("kernel {k}, stride {stride}: {pattern}").format(
                      k=k, stride=stride, pattern=_("even inside") if even else _("checkerboard")))
        panels.append(_("kernel {k}: {low} to {high} copies per pixel, {pattern}").format(
            k=k, low=int(counts.min()), high=int(counts.max()),
            pattern=_("even inside") if even else _("checkerboard")))
        ax.set_xlabel(_("output column (number = kernel copies summed)"))
    return describe(fig, _("How many kernel copies add up on each output pixel of a transposed convolution of "
                           "an input of {size}×{size} with stride {stride}: {panels}.").format(
        size=size, stride=stride, panels=_("; ").join(panels)))


def output_size_explorer():
    """Sliders for n, k, s, p, output_padding: the formula, the size, and where each input pixel's kernel lands."""
    import ipywidgets as widgets

    from convlab.shapes import conv_output_size, conv_transpose_output_size

    def show(n=3, kernel_size=3, stride=2, padding=0, output_padding=0):
        if output_padding >= stride:
            print(_("output_padding={output_padding} must be smaller than stride={stride}").format(
                output_padding=output_padding, stride=stride))
            return
        full = (n - 1) * stride + kernel_size + output_padding
        if full - 2 * padding < 1:
            print(_("padding={padding} removes the whole output").format(padding=padding))
            return
        size = conv_transpose_output_size(n, kernel_size, stride, padding, output_padding)
        print(f"({n}-1)·{stride} - 2·{padding} + ({kernel_size}-1) + {output_padding} + 1 = {size}")
        print(_("and a convolution with the same k, s, p maps {size} back to {back}").format(
            size=size, back=conv_output_size(size, kernel_size, stride, padding)))
        counts = np.zeros((full, full))
        for i in range(n):
            for j in range(n):
                counts[i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size] += 1
        mask = np.ones_like(counts, dtype=bool)
        mask[padding:padding + size, padding:padding + size] = False
        fig, ax = plt.subplots(figsize=(4.5, 4.5), constrained_layout=True)
        draw_grid(ax, counts, cmap="magma", vmin=0, vmax=counts.max() + 1, mask=mask, hide_masked=False,
                  title=_("{n}×{n} -> {size}×{size}; grey = cropped by padding").format(n=n, size=size))
        describe(fig, _("Kernel copies summed on each cell of the {full}×{full} grid that an input of {n}×{n} "
                        "scatters to (kernel {k}, stride {stride}); the {size}×{size} output is what padding "
                        "{padding} leaves, the cropped cells are grey.").format(
            full=full, n=n, k=kernel_size, stride=stride, size=size, padding=padding))
        plt.show()

    return widgets.interact(show, n=widgets.IntSlider(3, 1, 6), kernel_size=widgets.IntSlider(3, 1, 5),
                            stride=widgets.IntSlider(2, 1, 4), padding=widgets.IntSlider(0, 0, 3),
                            output_padding=widgets.IntSlider(0, 0, 3))


def zero_insertion(X, stride=2, padding=0, kernel_size=3):
    """View 2's input: `stride - 1` zeros between neighbouring pixels, then `kernel_size - 1 - padding` zeros
    around; returns it with a mask of the cells that came from X."""
    X = torch.as_tensor(X, dtype=torch.float64)
    h, w = X.shape
    spread = torch.zeros((h - 1) * stride + 1, (w - 1) * stride + 1, dtype=torch.float64)
    spread[::stride, ::stride] = X
    border = kernel_size - 1 - padding
    grid = torch.zeros(spread.shape[0] + 2 * border, spread.shape[1] + 2 * border, dtype=torch.float64)
    grid[border:border + spread.shape[0], border:border + spread.shape[1]] = spread
    original = torch.zeros_like(grid, dtype=torch.bool)
    original[border:border + spread.shape[0]:stride, border:border + spread.shape[1]:stride] = True
    return grid, original


def zero_insertion_figure(X, K, stride=2, padding=0):
    """View 2 drawn: the input, the zero-inserted and padded grid (the input's own cells outlined), the
    flipped kernel, and the correlation of the two, which is the transposed convolution."""
    from convlab.functional import conv2d

    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    grid, original = zero_insertion(X, stride, padding, K.shape[0])
    flipped = K.flip(0, 1)
    out = conv2d(grid[None, None], flipped[None, None])[0, 0]
    fig, axes = figure(4, width=2.8, height=3.2, ratios=[X.shape[1], grid.shape[1], K.shape[1], out.shape[1]])
    draw_grid(axes[0], X, title=_("input X {shape}").format(shape=tuple(X.shape)), cmap="Blues")
    draw_grid(axes[1], grid, title=_("{between} zero(s) between, {around} around").format(
        between=stride - 1, around=K.shape[0] - 1 - padding), cmap="Blues",
              fontsize=7)
    for r, c in original.nonzero().tolist():
        outline(axes[1], r, c, 1, 1, colour="tab:blue", linewidth=1.5)
    draw_grid(axes[2], flipped, title=_("K flipped"), cmap="Oranges")
    draw_grid(axes[3], out, title=_("correlation {shape}").format(shape=tuple(out.shape)), cmap="Greens", fontsize=7)
    return describe(fig, _("Input X {input}; the {grid} grid with {between} zero(s) between its values and {around} "
                           "around, X's cells outlined; K flipped, {kernel}; and their correlation {output}, which is "
                           "the transposed convolution.").format(
        input=shape(X.shape), grid=shape(grid.shape), between=stride - 1, around=K.shape[0] - 1 - padding,
        kernel=shape(K.shape), output=shape(out.shape)))

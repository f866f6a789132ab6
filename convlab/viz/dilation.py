"""Lesson 05 pictures: a dilated kernel's taps, and the receptive field of a stack of layers."""
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from convlab.i18n import _
from convlab.viz.describe import describe, listed
from convlab.viz.grid import draw_grid, figure, mark_cells, outline


def show_dilation(kernel_size=3, dilation=2, size=9):
    """The input cells one output reads: k×k taps spread `dilation` apart, spanning k + (k-1)(d-1)."""
    from convlab.shapes import conv_output_size, effective_kernel_size

    span = effective_kernel_size(kernel_size, dilation)
    out = conv_output_size(size, kernel_size, dilation=dilation)
    fig, (ax,) = figure(1, width=4.6, height=4.6)
    draw_grid(ax, np.zeros((size, size)), numbers=False, cmap="Greys", vmin=0, vmax=1,
              title=_("k={k}, dilation={dilation}: span {span}, output {out}×{out}").format(
                  k=kernel_size, dilation=dilation, span=span, out=out))
    taps = [(r * dilation, c * dilation) for r in range(kernel_size) for c in range(kernel_size)]
    mark_cells(ax, taps)
    outline(ax, 0, 0, span, span, colour="tab:blue", linewidth=2.0)
    ax.set_xlabel(_("column (red: taps of the first window, blue: its span)"))
    return describe(fig, _("A grid of {size}×{size} with the {taps} taps of the first window of a kernel of "
                           "{k}×{k} with dilation {dilation} in red, {dilation} cells apart, spanning {span}×{span} "
                           "(blue outline); the output is {out}×{out}.").format(
        size=size, taps=len(taps), k=kernel_size, dilation=dilation, span=span, out=out))


def influence(kernel_sizes, dilations=None, strides=None, size=None):
    """Which input pixels reach the centre output of a stack of convolutions: |d output / d input|.

    Computed by backpropagating through the course's reference `conv2d` with all-ones kernels, so the
    picture is measured, not drawn from the formula; the count of non-zero pixels is the receptive field.
    """
    from convlab.functional import conv2d
    from convlab.shapes import receptive_field

    layers = len(kernel_sizes)
    dilations = dilations or [1] * layers
    strides = strides or [1] * layers
    field = receptive_field(kernel_sizes, strides, dilations)
    size = size or field + 4
    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for k, d, s in zip(kernel_sizes, dilations, strides):
        y = conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)  # (1, 1, H', W')
    centre = (y.shape[2] // 2, y.shape[3] // 2)
    y[0, 0, centre[0], centre[1]].backward()
    return x.grad[0, 0], field  # (size, size) gradient, receptive field from the formula


def receptive_field_figure(stacks, size=None):
    """One panel per stack (a dict label -> (kernel_sizes, dilations)): how much each input pixel counts."""
    fig, axes = figure(len(stacks), width=3.8, height=4.0)
    panels = []
    for ax, (label, (kernel_sizes, dilations)) in zip(axes, stacks.items()):
        grad, field = influence(kernel_sizes, dilations, size=size)
        seen = int((grad.abs().sum(0) > 0).sum())  # columns with any influence = width of the field
        shown = ax.imshow(grad.numpy(), cmap="magma")
        ax.set_title(_("{label}\nreceptive field {seen}×{seen} (formula {field})").format(label=label, seen=seen, field=field))
        ax.set_xlabel(_("input column"))
        ax.set_ylabel(_("input row"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.colorbar(shown, ax=ax, shrink=0.7, label=_("paths to the output"))
        panels.append(_("{label}: receptive field {seen}×{seen} (formula {field})").format(
            label=label, seen=seen, field=field))
    return describe(fig, _("How much each input pixel counts towards the centre output (brighter: more paths), one "
                           "panel per stack: {panels}.").format(panels=listed(panels)))


def stack_versus_single_figure(channels=(16, 32, 64, 128, 256)):
    """Weights of three 3×3 layers against one 7×7 layer (C -> C, no bias) for several C: the
    same 7×7 receptive field, 27C² against 49C² weights."""
    from convlab.shapes import conv_parameter_count, receptive_field

    stacked = [3 * conv_parameter_count(c, c, (3, 3), bias=False) for c in channels]
    single = [conv_parameter_count(c, c, (7, 7), bias=False) for c in channels]
    x = np.arange(len(channels))
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.bar(x - 0.2, stacked, 0.4, color="tab:blue",
           label=_("three 3×3 layers (field {field}×{field}, 3 non-linearities)").format(
               field=receptive_field([3, 3, 3])))
    ax.bar(x + 0.2, single, 0.4, color="tab:orange",
           label=_("one 7×7 layer (field {field}×{field}, 1 non-linearity)").format(field=receptive_field([7])))
    for i, (a, b) in enumerate(zip(stacked, single)):
        ax.text(i, max(a, b) * 1.15, f"{a / b:.2f}×", ha="center", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(x, [f"C = {c}" for c in channels])
    ax.set_ylabel(_("weights (log scale)"))
    ax.set_ylim(top=max(single) * 4)
    ax.set_title(_("the same receptive field for 27/49 of the weights"))
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return describe(fig, _("Weights (log scale) of three 3×3 layers against one 7×7 layer, C → C, for C = {channels}: "
                           "the same 7×7 receptive field for 27/49 ≈ 0.55 of the weights.").format(
        channels=listed(channels)))


def receptive_field_explorer():
    """Sliders for layers, kernel size and dilation: the receptive field of the centre output, measured."""
    import ipywidgets as widgets

    def draw(layers, kernel_size, dilation, dilation_grows):
        dilations = [dilation ** (i + 1) if dilation_grows else dilation for i in range(layers)]
        label = _("{layers} × {k}×{k}, dilations {dilations}").format(layers=layers, k=kernel_size, dilations=dilations)
        receptive_field_figure({label: ([kernel_size] * layers, dilations)})
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(
        draw,
        layers=widgets.IntSlider(value=2, min=1, max=4, description=_("layers")),
        kernel_size=widgets.IntSlider(value=3, min=1, max=7, step=2, description="k"),
        dilation=widgets.IntSlider(value=1, min=1, max=3, description=_("dilation")),
        dilation_grows=widgets.Checkbox(value=False, description=_("dilation × per layer")),
    )

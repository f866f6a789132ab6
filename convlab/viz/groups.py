"""Lesson 08 pictures: which input channels each output channel sees under groups, cost tables, and a rank-1 kernel split in two."""
import unicodedata

import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, listed, shape
from convlab.viz.grid import draw_grid, figure


def connectivity(in_channels, out_channels, groups):
    """(out_channels, in_channels) 0/1 matrix: 1 where an output channel reads an input channel."""
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
    out_group = torch.arange(out_channels) // (out_channels // groups)
    in_group = torch.arange(in_channels) // (in_channels // groups)
    return (out_group[:, None] == in_group[None, :]).double()  # (C_out, C_in)


def connectivity_figure(in_channels, out_channels, groups, ax=None):
    """The connectivity matrix as a grid: block diagonal, one block per group (drawn on the caller's
    `ax`, the figure is the caller's to describe)."""
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(0.45 * in_channels + 2, 0.45 * out_channels + 1.4), constrained_layout=True)
    else:
        fig = ax.figure
    C = connectivity(in_channels, out_channels, groups)
    draw_grid(ax, C, cmap="Purples", vmin=0, vmax=1.3, numbers=False,
              title=_("groups={groups}: {connected} of {total} pairs connected").format(
                  groups=groups, connected=int(C.sum()), total=C.numel()))
    ax.set_xlabel(_("input channel"))
    ax.set_ylabel(_("output channel"))
    if not own:
        return fig
    return describe(fig, _("Which input channels (columns) each output channel (rows) reads with groups={groups}: "
                           "{groups} diagonal blocks of {block}, {connected} of {total} pairs connected.").format(
        groups=groups, block=shape((out_channels // groups, in_channels // groups)), connected=int(C.sum()),
        total=C.numel()))


def shuffle_order(channels, groups):
    """Where each output channel of a channel shuffle comes from: (groups, C/groups) read column by column."""
    return torch.arange(channels).view(groups, channels // groups).t().reshape(-1)


def shuffle_figure(channels=6, groups=2):
    """Left: two grouped layers in a row, each output reading only its own group, so no information crosses
    groups. Right: the channels after a shuffle, every group of the next layer holding one channel of each."""
    order = shuffle_order(channels, groups)
    colours = plt.get_cmap("tab10").colors
    group_of = torch.arange(channels) // (channels // groups)
    fig, (ax_c, ax_s) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    two_layers = connectivity(channels, channels, groups) @ connectivity(channels, channels, groups)
    ax_c.imshow((two_layers > 0).numpy(), cmap="Greens", vmin=0, vmax=1.4)
    ax_c.set_title(_("two layers, groups={groups}, no shuffle:\nwhich inputs (columns) each output (row) sees").format(
        groups=groups), fontsize=9)
    ax_c.set_xlabel(_("input channel"))
    ax_c.set_ylabel(_("output channel"))
    for row, y in ((0, _("before")), (1, _("after shuffle"))):
        for position in range(channels):
            source = int(order[position]) if row else position
            ax_s.add_patch(plt.Rectangle((position, 1 - row), 0.85, 0.5, color=colours[int(group_of[source])]))
            ax_s.text(position + 0.42, 1.25 - row, str(source), ha="center", va="center", color="white", fontsize=10)
        ax_s.text(-0.3, 1.25 - row, y, ha="right", va="center", fontsize=9)
    for position in range(channels):
        source = int(order[position])
        ax_s.annotate("", xy=(position + 0.42, 0.5), xytext=(source + 0.42, 1.0),
                      arrowprops={"arrowstyle": "->", "color": "0.5"})
    ax_s.set_xlim(-2.2, channels)
    ax_s.set_ylim(-0.1, 1.7)
    ax_s.axis("off")
    ax_s.set_title(_("channel shuffle, {channels} channels in {groups} groups (colour: group before)").format(
        channels=channels, groups=groups), fontsize=9)
    return describe(fig, _("Left: two layers with groups={groups} in a row, no shuffle: each output sees only the "
                           "{per} inputs of its own group. Right: a channel shuffle of {channels} channels in {groups} "
                           "groups; the new order is {order}.").format(
        groups=groups, per=channels // groups, channels=channels, order=listed(order.tolist())))


def _padded(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` columns of a terminal, where a CJK character takes two."""
    room = width - sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return " " * room + text if right else text + " " * room


def cost_table(rows):
    """Print rows of (name, weight shapes, parameters, multiply-accumulates) aligned, with ratios to the first."""
    base_p, base_m = rows[0][2], rows[0][3]
    params, macs = _("params"), _("MACs")
    print(_padded(_("layer"), 28) + _padded(_("weights"), 34) + _padded(params, 8, True) + _padded(macs, 10, True)
          + _padded(params + " ×", 10, True) + _padded(macs + " ×", 11, True))
    for name, shapes, params, macs in rows:
        print(f"{name:<28}{shapes:<34}{params:>8}{macs:>10}{params / base_p:>10.2f}{macs / base_m:>11.2f}")


def separable_figure(kernel, column, row):
    """kernel = column @ row: the 3×1 and 1×3 factors next to the kernel they rebuild."""
    fig, axes = figure(4, width=2.6, height=3.0, ratios=[1, 0.4, 1, 1])
    panels = [(kernel, _("kernel")), (column, _("column (kh, 1)")), (row, _("row (1, kw)")),
              (column @ row, _("column @ row"))]
    for ax, (values, title) in zip(axes, panels):
        limit = float(torch.as_tensor(values).abs().max()) or 1.0
        draw_grid(ax, values, title=title, cmap="coolwarm", vmin=-limit, vmax=limit)
    sizes = dict(kernel=shape(kernel.shape), column=shape(column.shape), row=shape(row.shape))
    error = float((torch.as_tensor(column @ row, dtype=torch.float64)
                   - torch.as_tensor(kernel, dtype=torch.float64)).abs().max())
    if error <= 1e-6 * max(1.0, float(torch.as_tensor(kernel).abs().max())):
        return describe(fig, _("A {kernel} kernel, its column factor {column}, its row factor {row}, and column @ "
                               "row, which equals the kernel.").format(**sizes))
    return describe(fig, _("A {kernel} kernel, its column factor {column}, its row factor {row}, and column @ row, "
                           "which differs from the kernel by up to {error}.").format(error=f"{error:.2g}", **sizes))


def singular_values_figure(kernels):
    """Singular values of each named kernel: one non-zero value means rank 1, i.e. separable."""
    fig, ax = plt.subplots(figsize=(5, 3), constrained_layout=True)
    width = 0.8 / len(kernels)
    said = []
    for i, (name, K) in enumerate(kernels.items()):
        s = torch.linalg.svdvals(torch.as_tensor(K, dtype=torch.float64)).numpy()
        ax.bar(np.arange(len(s)) + i * width, s, width, label=name)
        zero = s <= 1e-10 * s.max()  # rounding's leftovers of a rank-deficient kernel
        said.append(_("{name}: {values}").format(name=name, values=listed(
            "0" if z else f"{v:.2g}" for v, z in zip(s, zero))))
    ax.set_xticks(np.arange(len(s)) + width * (len(kernels) - 1) / 2, [f"σ{i + 1}" for i in range(len(s))])
    ax.set_ylabel(_("singular value"))
    ax.set_title(_("singular values: how many rank-1 pieces a kernel needs"))
    ax.legend()
    # TRANSLATORS: between the kernels of a list whose items hold commas themselves
    return describe(fig, _("Bars of each kernel's singular values, σ1 first; as many non-zero ones as rank-1 "
                           "pieces the kernel needs: {kernels}.").format(kernels=_("; ").join(said)))


def groups_explorer(in_channels=8, out_channels=8, kernel_size=3):
    """A slider over the valid group counts: the connectivity matrix thins out and the parameter count drops."""
    import ipywidgets as widgets

    from convlab.shapes import conv_parameter_count

    valid = [g for g in range(1, min(in_channels, out_channels) + 1)
             if in_channels % g == 0 and out_channels % g == 0]

    def show(groups=1):
        params = conv_parameter_count(in_channels, out_channels, (kernel_size, kernel_size), groups=groups, bias=False)
        print(_("weight shape {shape}: {count} parameters").format(
            shape=(out_channels, in_channels // groups, kernel_size, kernel_size), count=params))
        connectivity_figure(in_channels, out_channels, groups)
        plt.show()

    return widgets.interact(show, groups=widgets.SelectionSlider(options=valid, value=1, description=_("groups")))

"""Lessons 03–04 pictures: channels summed, output channels stacked, and parameter counts."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, listed, shape
from convlab.viz.grid import draw_grid


def show_multi_in(X, K):
    """One row per input channel (input, kernel channel, their correlation), then the sum: one output channel."""
    from convlab.functional import corr2d

    X, K = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64)
    channels = X.shape[0]
    fig, axes = plt.subplots(channels, 4, figsize=(11, 2.6 * channels), constrained_layout=True,
                             squeeze=False)
    partials = [corr2d(X[c], K[c]) for c in range(channels)]
    total = sum(partials)
    for c in range(channels):
        draw_grid(axes[c, 0], X[c], title=_("input channel {c}").format(c=c))
        draw_grid(axes[c, 1], K[c], title=_("kernel channel {c}").format(c=c), cmap="Oranges")
        draw_grid(axes[c, 2], partials[c], title=f"X[{c}] ⋆ K[{c}]", cmap="Greens")
        axes[c, 3].axis("off")
    draw_grid(axes[channels // 2, 3], total, title=_("sum over channels\n= one output channel"), cmap="Purples")
    return describe(fig, _("{channels} input channels {input}, each correlated with its own {kernel} kernel "
                           "channel; the {channels} results ({output}) add up to one output channel.").format(
        channels=channels, input=shape(X.shape[1:]), kernel=shape(K.shape[1:]), output=shape(total.shape)))


def parameter_comparison(in_channels=3, out_channels=10, kernel_size=5, image_sizes=(8, 16, 32, 64, 128, 224)):
    """Parameters of a convolution against a dense layer mapping the same input to the same output.

    The convolution's count does not depend on the image size; the dense layer's grows with its square.
    """
    from convlab.shapes import conv_output_size, conv_parameter_count

    conv = conv_parameter_count(in_channels, out_channels, (kernel_size, kernel_size))
    dense = []
    for n in image_sizes:
        out = conv_output_size(n, kernel_size)
        inputs, outputs = in_channels * n * n, out_channels * out * out
        dense.append(inputs * outputs + outputs)  # weight matrix + one bias per output unit
    fig, ax = plt.subplots(figsize=(6.5, 4), constrained_layout=True)
    ax.semilogy(image_sizes, dense, "o-", label=_("dense layer, same input and output sizes"))
    ax.semilogy(image_sizes, [conv] * len(image_sizes), "s-", label=_("Conv2d({c_in}, {c_out}, {k}): {count} parameters").format(
                    c_in=in_channels, c_out=out_channels, k=kernel_size, count=conv))
    for n, count in zip(image_sizes, dense):
        ax.annotate(f"{count:.1e}", (n, count), textcoords="offset points", xytext=(-10, 8), fontsize=8)
    ax.set_xlabel(_("image height = width (pixels)"))
    ax.set_ylabel(_("number of parameters (log scale)"))
    ax.set_title(_("A convolution's parameters do not grow with the image"))
    ax.legend(loc="center right")
    ax.grid(True, which="both", alpha=0.3)
    return describe(fig, _("Parameters (log scale) against image size, {first} to {last} pixels a side: a dense "
                           "layer with the same input and output sizes grows from {dense_first} to {dense_last}; "
                           "Conv2d({c_in}, {c_out}, {k}) stays at {count}.").format(
        first=image_sizes[0], last=image_sizes[-1], dense_first=f"{dense[0]:,}", dense_last=f"{dense[-1]:,}",
        c_in=in_channels, c_out=out_channels, k=kernel_size, count=f"{conv:,}"))


def parameter_explorer():
    """Sliders for channels, kernel size and image size: parameters of a convolution vs a dense layer."""
    import ipywidgets as widgets

    from convlab.shapes import conv_output_size, conv_parameter_count

    def show(in_channels, out_channels, kernel_size, image_size):
        if kernel_size > image_size:
            print(_("kernel_size={k} is larger than the image ({size})").format(k=kernel_size, size=image_size))
            return
        out = conv_output_size(image_size, kernel_size)
        conv = conv_parameter_count(in_channels, out_channels, (kernel_size, kernel_size))
        inputs, outputs = in_channels * image_size ** 2, out_channels * out ** 2
        dense = inputs * outputs + outputs
        print(_("input {shape_in} -> output {shape_out}").format(shape_in=(in_channels, image_size, image_size),
                                                                shape_out=(out_channels, out, out)))
        print(_("convolution: {c_out}·({c_in}·{k}·{k} + 1) = {count} parameters").format(
            c_out=out_channels, c_in=in_channels, k=kernel_size, count=f"{conv:,}"))
        print(_("dense layer: {inputs}·{outputs} + {outputs} = {count} parameters ({ratio}× more)").format(
            inputs=f"{inputs:,}", outputs=f"{outputs:,}", count=f"{dense:,}", ratio=f"{dense / conv:,.0f}"))

    return widgets.interact(
        show,
        in_channels=widgets.IntSlider(value=3, min=1, max=64, description="C_in"),
        out_channels=widgets.IntSlider(value=10, min=1, max=64, description="C_out"),
        kernel_size=widgets.IntSlider(value=5, min=1, max=11, step=2, description="k"),
        image_size=widgets.IntSlider(value=32, min=8, max=256, step=8, description=_("image")),
    )


def show_pointwise(X, weight):
    """A 1×1 convolution: the same small matrix applied to the channel vector of every pixel."""
    X = torch.as_tensor(X, dtype=torch.float64)
    W = torch.as_tensor(weight, dtype=torch.float64).reshape(weight.shape[0], weight.shape[1])  # (C_out, C_in)
    c_in, h, w = X.shape
    columns = X.reshape(c_in, h * w)  # (C_in, H·W): one column per pixel
    out = W @ columns  # (C_out, H·W)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), constrained_layout=True,
                             gridspec_kw={"width_ratios": [c_in + 1, h * w, h * w]})
    draw_grid(axes[0], W, title=_("weight as a matrix\n(C_out, C_in) = {shape}").format(shape=tuple(W.shape)), cmap="Oranges")
    draw_grid(axes[1], columns, title=_("input, one column per pixel\n(C_in, H·W) = {shape}").format(
        shape=tuple(columns.shape)))
    draw_grid(axes[2], out, title=_("output = weight @ input\n(C_out, H·W) = {shape}").format(shape=tuple(out.shape)), cmap="Purples")
    for ax in axes:
        ax.set_xlabel(_("pixel (row-major)") if ax is not axes[0] else _("input channel"))
        ax.set_ylabel(_("channel") if ax is not axes[0] else _("output channel"))
    return describe(fig, _("A 1×1 convolution as one matrix product: the weight {weight} times the input laid out "
                           "as one column per pixel {columns} gives the output {output}, one column per pixel.").format(
        weight=shape(W.shape), columns=shape(columns.shape), output=shape(out.shape)))


def bottleneck_cost_figure(channels, widths, size, kernel_size=3):
    """Parameters and multiply-adds of a bottleneck block (1×1 down to each width, k×k, 1×1 up), as a
    share of one k×k layer at full width: where the block stops saving."""
    from convlab.shapes import conv_macs, conv_parameter_count

    k, pad = (kernel_size, kernel_size), kernel_size // 2
    direct = (conv_parameter_count(channels, channels, k), conv_macs(channels, channels, k, size, padding=pad))
    shares = []
    for w in widths:
        layers = [(channels, w, (1, 1), 0), (w, w, k, pad), (w, channels, (1, 1), 0)]
        params = sum(conv_parameter_count(i, o, kk) for i, o, kk, _pad in layers)
        macs = sum(conv_macs(i, o, kk, size, padding=p) for i, o, kk, p in layers)
        shares.append((100 * params / direct[0], 100 * macs / direct[1]))
    fig, ax = plt.subplots(figsize=(6.5, 3.2), constrained_layout=True)
    ax.plot(widths, [p for p, _m in shares], "o-", label=_("parameters"))
    ax.plot(widths, [m for _p, m in shares], "s--", label=_("multiply-adds"))
    ax.axhline(100, color="0.5", linewidth=1)
    ax.text(widths[0], 103, _("one {k}×{k} layer, {channels}→{channels}").format(k=kernel_size, channels=channels),
            fontsize=8, color="0.4")
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_xlabel(_("bottleneck width"))
    ax.set_ylabel(_("share of the plain layer (%)"))
    ax.set_title(_("bottleneck {channels}→width→{channels} on a {size}×{size} input").format(channels=channels,
                                                                                          size=size))
    ax.legend(fontsize=8)
    return describe(fig, _("Parameters and multiply-adds of a bottleneck block {channels}→width→{channels} on an "
                           "input of {size}×{size}, in % of one {k}×{k} layer at full width, for widths {widths}: "
                           "from {p_first}% and {m_first}% to {p_last}% and {m_last}%.").format(
        channels=channels, size=size, k=kernel_size, widths=listed(widths), p_first=f"{shares[0][0]:.0f}",
        m_first=f"{shares[0][1]:.0f}", p_last=f"{shares[-1][0]:.0f}", m_last=f"{shares[-1][1]:.0f}"))


def bottleneck_explorer(channels=256, height=28, width=28, kernel_size=3):
    """A slider for the bottleneck width: cost of 1×1 down, k×k, 1×1 up against one k×k at full width."""
    import ipywidgets as widgets

    from convlab.shapes import conv_macs, conv_parameter_count

    pad = kernel_size // 2
    size = (height, width)

    def show(bottleneck):
        direct_params = conv_parameter_count(channels, channels, (kernel_size, kernel_size))
        direct_macs = conv_macs(channels, channels, kernel_size, size, padding=pad)
        params = (conv_parameter_count(channels, bottleneck, 1)
                  + conv_parameter_count(bottleneck, bottleneck, (kernel_size, kernel_size))
                  + conv_parameter_count(bottleneck, channels, 1))
        macs = (conv_macs(channels, bottleneck, 1, size)
                + conv_macs(bottleneck, bottleneck, kernel_size, size, padding=pad)
                + conv_macs(bottleneck, channels, 1, size))
        fig, ax = plt.subplots(figsize=(6.5, 3.2), constrained_layout=True)
        labels = [_("parameters"), _("multiply-adds")]
        x = np.arange(2)
        ax.bar(x - 0.2, [direct_params, direct_macs], 0.4, label=f"{kernel_size}×{kernel_size}, {channels}→{channels}")
        ax.bar(x + 0.2, [params, macs], 0.4,
               label=f"1×1 {channels}→{bottleneck}, {kernel_size}×{kernel_size}, 1×1 {bottleneck}→{channels}")
        ax.set_yscale("log")
        ax.set_xticks(x, labels)
        ax.set_ylabel(_("count (log scale)"))
        ax.set_title(_("input {shape}: bottleneck costs {share} of the parameters").format(
            shape=(channels, height, width), share=f"{params / direct_params:.0%}"))
        ax.legend(fontsize=8, loc="upper left")
        describe(fig, _("Bars, log scale: one {k}×{k} layer {channels}→{channels} against a bottleneck of width "
                        "{width}: {direct_params} against {params} parameters, {direct_macs} against {macs} "
                        "multiply-adds.").format(
            k=kernel_size, channels=channels, width=bottleneck, direct_params=f"{direct_params:,}",
            params=f"{params:,}", direct_macs=f"{direct_macs:,}", macs=f"{macs:,}"))
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(show, bottleneck=widgets.IntSlider(value=64, min=8, max=channels, step=8,
                                                               description=_("bottleneck")))

"""Lesson 12 pictures, beyond `convlab.viz.dims`: which inputs one output of a stack of causal (or
'same'-padded) 1D convolutions sees, with sliders; and a signal through two 1D kernels.

Labels are symbols and numbers only ($x$, $h_1$, $y_t$, k, d), so the figures read the same in
every edition; the lesson's text says what they mean.
"""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, listed

PADDINGS = ("causal", "same")


def left_padding(kernel_size, dilation, padding="causal"):
    """(left, right) zeros that keep the length: all (k-1)·d on the left, or split as torch's padding='same' does."""
    from convlab.shapes import same_padding

    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, got padding={padding!r}")
    total = (kernel_size - 1) * dilation
    return (total, 0) if padding == "causal" else same_padding(kernel_size, dilation)


def stack_influence(kernel_size, dilations, t, length, padding="causal"):
    """For a stack of length-keeping 1D convolutions (all-ones kernels), which positions of each layer reach
    output `t`: a list of boolean arrays, input first. Measured by backpropagating through the course's
    `conv1d` and `pad` from output t (path counts, never cancelling), not drawn from a formula."""
    from convlab.functional import conv1d, pad

    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    layers, h = [x], x
    for d in dilations:
        h = conv1d(pad(h, left_padding(kernel_size, d, padding)),
                   torch.ones(1, 1, kernel_size, dtype=torch.float64), dilation=d)   # (1, 1, length)
        h.retain_grad()
        layers.append(h)
    h[0, 0, t].backward()
    return [(layer.grad[0, 0] != 0).numpy() for layer in layers]


def causal_figure(kernel_size=2, dilations=(1, 2, 4, 8), t=40, length=48, padding="causal"):
    """Dots for the positions of the input (bottom), each layer, and the output (top); in colour, and
    joined to what they read, the ones that output t depends on. Shaded: the future of t."""
    from convlab.shapes import receptive_field

    dilations = tuple(dilations)
    seen = stack_influence(kernel_size, dilations, t, length, padding)
    depth = len(dilations)
    fig, ax = plt.subplots(figsize=(9, 1.0 + 0.75 * (depth + 1)), constrained_layout=True)
    ax.axvspan(t + 0.5, length - 0.5, color="tab:red", alpha=0.08, linewidth=0)
    ax.axvline(t, color="tab:red", linewidth=0.8, alpha=0.5)
    positions = np.arange(length)
    for level in range(depth, 0, -1):   # lines from each used node to the k nodes it reads one level down
        left = left_padding(kernel_size, dilations[level - 1], padding)[0]
        for j in positions[seen[level]]:
            for a in range(kernel_size):
                i = j - left + a * dilations[level - 1]
                if 0 <= i < length:
                    ax.plot([i, j], [level - 1, level], color="tab:blue", linewidth=0.9, alpha=0.6, zorder=1)
    for level, used in enumerate(seen):
        ax.scatter(positions[~used], np.full((~used).sum(), level), s=14, color="0.82", zorder=2)
        ax.scatter(positions[used], np.full(used.sum(), level), s=26,
                   color="tab:red" if level == depth else "tab:blue", zorder=3)
    inputs = positions[seen[0]]
    names = ["$x$"] + [f"$h_{i}$" for i in range(1, depth)] + ["$y$"]
    ax.set_yticks(range(depth + 1), names)
    ax.set_xlim(-0.8, length - 0.2)
    ax.set_ylim(-0.5, depth + 0.5)
    ax.set_xlabel("$t$")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    field = receptive_field([kernel_size] * depth, dilations=list(dilations))
    ax.set_title(f"k = {kernel_size},  d = {', '.join(map(str, dilations))}:   "
                 f"$y_{{{t}}}$ ← $x_{{{inputs.min()}}} … x_{{{inputs.max()}}}$,   r = {field}", fontsize=10)
    said = (_("A stack of {layers} causal 1D convolutions (kernel {k}, dilations {dilations}) over {length} "
              "positions: output {t} depends on inputs {first} to {last}, a receptive field of {field}; "
              "nothing after {t} reaches it.") if padding == "causal" else
            _("A stack of {layers} 1D convolutions with 'same' padding (kernel {k}, dilations {dilations}) over "
              "{length} positions: output {t} depends on inputs {first} to {last}, a receptive field of {field}, "
              "some of them after {t}."))
    return describe(fig, said.format(layers=depth, k=kernel_size, dilations=listed(dilations),
                                     length=length, t=t, first=int(inputs.min()), last=int(inputs.max()),
                                     field=field))


def causal_explorer(length=48):
    """Sliders: kernel size, layers, dilations fixed or doubling, causal or 'same' padding, the output t."""
    import ipywidgets as widgets

    def draw(k, layers, dilation, padding, t):
        dilations = [2 ** i if dilation == "double" else 1 for i in range(layers)]
        causal_figure(k, dilations, t, length, padding)
        plt.show()  # interact would display a returned figure a second time

    return widgets.interact(
        draw,
        k=widgets.IntSlider(value=2, min=2, max=4, description="k"),
        layers=widgets.IntSlider(value=4, min=1, max=4, description="L"),
        dilation=widgets.ToggleButtons(options=[("d = 1, 1, 1, …", "one"), ("d = 1, 2, 4, …", "double")],
                                       value="double", description="d"),
        padding=widgets.ToggleButtons(options=[("((k−1)·d, 0)", "causal"), ("'same'", "same")],
                                      value="causal", description="pad"),
        t=widgets.IntSlider(value=length - 8, min=0, max=length - 1, description="t"),
    )


def filtered_figure(signal, outputs, kernels, threshold=None, events=(), names=None):
    """A signal with what kernels make of it: left, the signal and `outputs[0]` over it, then each further
    output (with ±threshold and the events marked on the last); right, each kernel as stems.

    `signal` (L,), `outputs` a list of (L,) tensors, `kernels` a list of (k,) tensors, one per output;
    `names` (math, e.g. "$w_s$") label the kernels and, as "$w \\star x$", the outputs."""
    signal = torch.as_tensor(signal).detach().double().reshape(-1).numpy()
    outputs = [torch.as_tensor(o).detach().double().reshape(-1).numpy() for o in outputs]
    kernels = [torch.as_tensor(w).detach().double().reshape(-1).numpy() for w in kernels]
    names = names or [f"$w_{i}$" for i in range(len(kernels))]
    rows = max(1, len(outputs))
    fig, axes = plt.subplots(rows, 2, figsize=(10, 2.3 * rows), constrained_layout=True, squeeze=False,
                             gridspec_kw={"width_ratios": [5, 1]})
    t = np.arange(len(signal))
    for row, (out, w, name) in enumerate(zip(outputs, kernels, names)):
        ax, ax_k = axes[row]
        label = name.replace("$", "")
        if row == 0:
            ax.plot(t, signal, color="0.6", linewidth=0.8, label="$x$")
        ax.plot(t, out, color="tab:blue", linewidth=1.2, label=f"${label} \\star x$")
        if row == rows - 1 and threshold is not None:
            for sign in (1, -1):
                ax.axhline(sign * threshold, color="tab:red", linestyle="--", linewidth=0.8)
            for e in events:
                ax.axvline(e, color="tab:red", alpha=0.35, linewidth=3)
        ax.legend(loc="upper left", fontsize=8)
        ax.set_xlim(0, len(signal) - 1)
        ax_k.stem(np.arange(len(w)), w, linefmt="tab:orange", markerfmt="o", basefmt="0.6")
        ax_k.set_title(name, fontsize=10)
        ax_k.set_xticks([0, len(w) - 1])
    axes[-1, 0].set_xlabel("$t$")
    said = _("A signal of {length} samples and what {count} kernel(s) of {taps} taps make of it, drawn over it, "
             "each kernel's taps beside its output.").format(length=len(signal), count=len(kernels),
                                                            taps=listed(len(w) for w in kernels))
    if threshold is not None:
        said += " " + _("The last output is compared with ±{threshold:g}; it crosses it at {events}.").format(
            threshold=threshold, events=listed(events) or "—")
    return describe(fig, said)

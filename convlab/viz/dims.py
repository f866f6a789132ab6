"""Lesson 12 pictures: a 1D convolution along a signal, and a 3D one through the frames of a clip."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.viz.describe import describe
from convlab.viz.grid import outline


def signal_figure(signal, kernel, at=5):
    """The signal, the k-tap window at output position `at` (shaded), the kernel, and the output signal."""
    from convlab.functional import conv1d

    x = torch.as_tensor(signal, dtype=torch.float64).reshape(-1)
    k = torch.as_tensor(kernel, dtype=torch.float64).reshape(-1)
    y = conv1d(x[None, None], k[None, None])[0, 0]
    fig, (ax_x, ax_k, ax_y) = plt.subplots(3, 1, figsize=(8, 5.2), constrained_layout=True,
                                           gridspec_kw={"height_ratios": [2, 1, 2]})
    ax_x.stem(np.arange(len(x)), x.numpy(), basefmt="0.6")
    ax_x.axvspan(at - 0.5, at + len(k) - 0.5, color="tab:orange", alpha=0.25)
    ax_x.set_title(_("input signal, length {length} (shaded: the window of output {at})").format(length=len(x), at=at),
                   fontsize=9)
    ax_k.stem(np.arange(len(k)), k.numpy(), linefmt="tab:orange", markerfmt="o", basefmt="0.6")
    ax_k.set_title(_("kernel, {taps} taps").format(taps=len(k)), fontsize=9)
    ax_k.set_xlim(-0.5, len(x) - 0.5)
    ax_y.stem(np.arange(len(y)), y.numpy(), linefmt="tab:green", markerfmt="o", basefmt="0.6")
    ax_y.stem([at], [float(y[at])], linefmt="tab:red", markerfmt="o", basefmt=" ")
    ax_y.set_title(_("output, length {n} - {k} + 1 = {out}").format(n=len(x), k=len(k), out=len(y)), fontsize=9)
    ax_y.set_xlim(-0.5, len(x) - 0.5)
    for ax in (ax_x, ax_k, ax_y):
        ax.set_xticks(range(0, len(x), 2))
    return describe(fig, _("A signal of length {length} with the window of output {at} shaded, the {taps}-tap "
                           "kernel, and the output of length {out}, in which output {at} is {value}.").format(
        length=len(x), at=at, taps=len(k), out=len(y), value=f"{float(y[at]):.3g}"))


def clip_figure(clip, kernel_size=3, frame=2, row=1, col=1):
    """The frames of a (D, H, W) clip side by side, and the k×k×k window one output reads, outlined in
    each of the k frames it spans: a 3D kernel slides through time as well as across each frame."""
    clip = torch.as_tensor(clip, dtype=torch.float64)
    depth = clip.shape[0]
    fig, axes = plt.subplots(1, depth, figsize=(1.7 * depth, 2.2), constrained_layout=True, squeeze=False)
    for t, ax in enumerate(axes[0]):
        ax.imshow(clip[t].numpy(), cmap="Greys", vmin=float(clip.min()), vmax=float(clip.max()))
        inside = frame <= t < frame + kernel_size
        ax.set_title(_("frame {t}").format(t=t), fontsize=9, color="tab:red" if inside else "black")
        if inside:
            outline(ax, row, col, kernel_size, kernel_size, colour="tab:red", linewidth=2)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(_("one output of a {k}×{k}×{k} kernel reads {k} frames ({first}–{last})").format(
        k=kernel_size, first=frame, last=frame + kernel_size - 1), fontsize=10)
    return describe(fig, _("The {depth} frames of a clip of {h}×{w}, side by side; one output of a {k}×{k}×{k} kernel "
                           "reads frames {first}–{last}, in each a {k}×{k} window at row {row}, column {col}, outlined "
                           "in red.").format(depth=depth, h=clip.shape[1], w=clip.shape[2], k=kernel_size, first=frame,
                                            last=frame + kernel_size - 1, row=row, col=col))

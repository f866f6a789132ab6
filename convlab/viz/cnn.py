"""Lesson 11 pictures: sample images, the loss curve, learned filters and feature maps of the small CNN."""
import matplotlib.pyplot as plt
import numpy as np
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, listed, shape


def samples_figure(images, labels, classes, count=10):
    """The first image of each class, titled with its name."""
    fig, axes = plt.subplots(1, count, figsize=(1.4 * count, 1.8), constrained_layout=True)
    for ax, c in zip(axes, range(count)):
        i = int((labels == c).nonzero()[0])
        ax.imshow(images[i, 0].detach().cpu().numpy(), cmap="gray")
        ax.set_title(_(classes[c]), fontsize=8)
        ax.axis("off")
    return describe(fig, _("The first image of each of {count} classes: {names}.").format(
        count=count, names=listed(_(classes[c]) for c in range(count))))


def loss_figure(losses, batches_per_epoch=None):
    """Training loss per batch, with a running mean; epochs marked when their length is given."""
    fig, ax = plt.subplots(figsize=(6, 3), constrained_layout=True)
    losses = np.asarray(losses)
    ax.plot(losses, color="0.7", label=_("batch loss"))
    window = max(1, len(losses) // 15)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(np.arange(window - 1, len(losses)), smooth, color="tab:blue", label=_("mean of {window}").format(window=window))
    if batches_per_epoch:
        for e in range(batches_per_epoch, len(losses), batches_per_epoch):
            ax.axvline(e - 0.5, color="0.85", linewidth=0.8)
    ax.axhline(np.log(10), color="tab:red", linestyle="--", linewidth=1, label=_("chance: ln 10"))
    ax.set_xlabel(_("batch"))
    ax.set_ylabel(_("cross-entropy"))
    ax.set_title(_("training loss"))
    ax.legend()
    return describe(fig, _("Training loss (cross-entropy) over {count} batches, from {first} to {last}, with its "
                           "running mean of {window}; chance, ln 10 ≈ 2.30, dashed.").format(
        count=len(losses), first=f"{losses[0]:.3g}", last=f"{losses[-1]:.3g}", window=window))


def filters_figure(weight):
    """The first layer's kernels, one 3×3 image each, on a shared colour scale (red +, blue −)."""
    w = weight.detach().cpu().double()[:, 0].numpy()            # (C_out, kH, kW)
    limit = float(np.abs(w).max())
    fig, axes = plt.subplots(1, len(w), figsize=(1.6 * len(w), 1.9), constrained_layout=True)
    for i, (ax, k) in enumerate(zip(axes, w)):
        image = ax.imshow(k, cmap="coolwarm", vmin=-limit, vmax=limit)
        ax.set_title(_("filter {i}").format(i=i), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes), shrink=0.8, label=_("weight"))
    return describe(fig, _("The first layer's {count} kernels, {kernel} each, on one colour scale from −{limit} "
                           "(blue) to +{limit} (red).").format(count=len(w), kernel=shape(w.shape[1:]),
                                                               limit=f"{limit:.2g}"))


def feature_maps_figure(image, maps, block=None, shown=None, title=None):
    """One image next to the feature maps a layer makes of it (one panel per channel).

    ``block`` (the layer's number) and ``shown`` (the image's class name) go into the title, worded
    here so that it reads in the lesson's language; ``title``, already worded, replaces it."""
    maps = maps.detach().cpu().double().numpy()                # (C, H, W)
    cols = min(8, len(maps))
    rows = int(np.ceil(len(maps) / cols))
    fig, axes = plt.subplots(rows, cols + 1, figsize=(1.5 * (cols + 1), 1.6 * rows + 0.4), constrained_layout=True,
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(image.detach().cpu()[0].numpy(), cmap="gray")
    axes[0, 0].set_title(_("input"), fontsize=9)
    for c, m in enumerate(maps):
        ax = axes[c // cols, 1 + c % cols]
        ax.imshow(m, cmap="viridis")
        ax.set_title(_("ch {c}").format(c=c), fontsize=8)
    count, shape = len(maps), "×".join(map(str, maps.shape[1:]))
    if title is None and (block is None or shown is None):
        title = _("{count} feature maps of size {shape}").format(count=count, shape=shape)
    elif title is None:
        title = _("block {block} on a {shown}: {count} maps of {shape}").format(
            block=block, shown=_(shown), count=count, shape=shape)
    fig.suptitle(title)
    return describe(fig, _("{title}. The input image first, then one panel per feature map.").format(title=title))


def feature_map_explorer(model, images, labels, classes):
    """Sliders for the example and the layer: see which channels light up for which shapes."""
    import ipywidgets as widgets

    def show(index=0, layer=1):
        with torch.no_grad():
            maps = model.features(images[index:index + 1])[layer - 1][0]
            guess = int(model(images[index:index + 1]).argmax())
        title = _("{label} (model says: {guess}) — block {layer}, {shape}").format(
            label=_(classes[int(labels[index])]), guess=_(classes[guess]), layer=layer, shape=tuple(maps.shape))
        feature_maps_figure(images[index], maps, title=title)
        plt.show()

    return widgets.interact(show, index=widgets.IntSlider(0, 0, len(images) - 1, description=_("example")),
                            layer=widgets.IntSlider(1, 1, 2, description=_("block")))

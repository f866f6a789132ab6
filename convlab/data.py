"""A small labelled image set of simple shapes, drawn by code so nothing is downloaded (lesson 11)."""
import math

import torch

from convlab.i18n import N_

__all__ = ["CLASSES", "shapes_dataset"]

#: The class names as written; figures show them in the lesson's language (`convlab.i18n`).
CLASSES = (N_("horizontal bar"), N_("vertical bar"), N_("diagonal \\"), N_("diagonal /"), N_("plus"),
           N_("cross"), N_("square"), N_("square outline"), N_("disc"), N_("ring"))


def _masks(dy, dx, L, t):
    """One boolean mask per class, each (n, size, size), for offsets dy, dx from each centre."""
    r = torch.sqrt(dy ** 2 + dx ** 2)
    box = torch.maximum(dy.abs(), dx.abs())
    inside = box <= L
    horizontal = (dy.abs() <= t) & (dx.abs() <= L)
    vertical = (dx.abs() <= t) & (dy.abs() <= L)
    diag = ((dx - dy).abs() <= t * math.sqrt(2)) & inside
    anti = ((dx + dy).abs() <= t * math.sqrt(2)) & inside
    return (horizontal, vertical, diag, anti, horizontal | vertical, diag | anti,
            inside, inside & (box >= L - 2 * t), r <= L, (r <= L) & (r >= L - 2 * t))


def shapes_dataset(n=600, seed=0, size=32, noise=0.15):
    """(images (n, 1, size, size) float32 in about [0, 1], labels (n,) int64), classes balanced.

    Each image is one shape from CLASSES at a random place and size, plus Gaussian noise.
    """
    if n < 1 or size < 16:
        raise ValueError(f"need n >= 1 and size >= 16, got n={n}, size={size}")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % len(CLASSES)
    labels = labels[torch.randperm(n, generator=g)]
    half = size / 2
    L = (0.2 + 0.15 * torch.rand(n, generator=g)) * size            # half-extent of the shape
    cy = half + (torch.rand(n, generator=g) - 0.5) * (size - 2 * L - 2)
    cx = half + (torch.rand(n, generator=g) - 0.5) * (size - 2 * L - 2)
    t = 0.8 + 0.6 * torch.rand(n, generator=g)                      # half-thickness of strokes
    coords = torch.arange(size, dtype=torch.float32)
    dy = coords.view(1, size, 1) - cy.view(n, 1, 1)                  # (n, size, 1)
    dx = coords.view(1, 1, size) - cx.view(n, 1, 1)                  # (n, 1, size)
    dy, dx = torch.broadcast_tensors(dy, dx)                        # (n, size, size) each
    masks = torch.stack(_masks(dy, dx, L.view(n, 1, 1), t.view(n, 1, 1)), dim=1)  # (n, classes, size, size)
    images = masks[torch.arange(n), labels].float()                 # (n, size, size)
    images = images + noise * torch.randn(images.shape, generator=g)
    return images.unsqueeze(1), labels                              # (n, 1, size, size), (n,)

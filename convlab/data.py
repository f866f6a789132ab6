"""Lesson 11's labelled images, none downloaded: simple shapes drawn by code, and real handwritten
digits shipped inside the package (`convlab/datasets/digits.csv.gz`, see DIGITS_LICENSE.txt there)."""
import functools
import gzip
import math
from pathlib import Path

import numpy as np
import torch

from convlab.i18n import N_

__all__ = ["CLASSES", "DIGIT_CLASSES", "digits_split", "load_digits", "shapes_dataset"]

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


#: The digits' class names: the label itself.
DIGIT_CLASSES = tuple(str(d) for d in range(10))
DIGITS_FILE = Path(__file__).resolve().parent / "datasets" / "digits.csv.gz"


@functools.cache
def _digits_table():
    """The file's 1,797 rows of 64 pixel counts (0..16) and a label, read once, read-only."""
    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)      # (1797, 65)
    table.flags.writeable = False
    return table


def load_digits():
    """(images (1797, 1, 8, 8) float32 in [0, 1], labels (1797,) int64): the UCI optical handwritten digits.

    Each pixel of the 8×8 image counts the "on" pixels of a 4×4 block of a 32×32 bitmap (0..16),
    divided here by 16. The data are the test set of Alpaydin and Kaynak's UCI set (CC BY 4.0), in
    the file scikit-learn ships; nothing is downloaded.
    """
    table = _digits_table()
    images = torch.tensor(table[:, :64], dtype=torch.float32).reshape(-1, 1, 8, 8) / 16
    return images, torch.tensor(table[:, 64], dtype=torch.int64)


def digits_split(test_per_class=36, seed=0):
    """(train_images, train_labels, test_images, test_labels): `load_digits()` shuffled by `seed`, and
    `test_per_class` images of each digit held out to test (36: 360 of the 1,797, a fifth). The same
    seed gives the same split every time; both parts keep the file's order."""
    images, labels = load_digits()
    smallest = int(torch.bincount(labels).min())
    if not 0 < test_per_class < smallest:
        raise ValueError(f"test_per_class must be between 1 and {smallest - 1}, got test_per_class={test_per_class}")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    test = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(len(DIGIT_CLASSES)):
        test[order[labels[order] == digit][:test_per_class]] = True
    return images[~test], labels[~test], images[test], labels[test]

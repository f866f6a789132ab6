"""Where a learner's map differs from torch's, in a few exact words: the failure picture's description.

A screen reader cannot see the difference panel, and a sighted learner reads a pattern faster than
a colour map: "3 of 16 values differ, all in the last column" says an edge is handled wrong, "all
on the border; the inside matches" says the padding is. The words come from the difference mask
alone, tried from the tightest pattern to the loosest: one cell, the corners, one row or column,
bands along some sides (the border when all four), a few rows or columns, a block, else scattered.
Every phrase is true of the mask; rows and columns are numbered from 0, as the figures' axes are.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np

from convlab.i18n import _, ngettext
from convlab.viz.describe import listed

SIDES = ("top", "bottom", "left", "right")


def where_they_differ(mask) -> str:
    """The pattern of a 2D (or 1D) boolean mask of differing values, in the learner's language."""
    m = np.atleast_2d(np.asarray(mask, dtype=bool))
    n, total = int(m.sum()), m.size
    if n == 0:
        return _("no value differs beyond the tolerance")
    if n == total:
        return _("all {total} values differ").format(total=total) if total > 1 else _("the only value differs")
    count = ngettext("{n} of {total} values differs", "{n} of {total} values differ", n).format(n=n, total=total)
    for pattern in (_one_cell, _corners, _one_line, _bands, _few_lines, _block):
        said = pattern(m, count)
        if said:
            return said
    return _scattered(m, count)


def _one_cell(m, count: str) -> str | None:
    """A single difference, by its row and column, and its corner if it is at one."""
    if int(m.sum()) != 1:
        return None
    r, c = (int(i) for i in np.argwhere(m)[0])
    if m.shape[0] == 1:
        return _("{count}, at position {index}").format(count=count, index=c)
    cell = _("row {row}, column {col}").format(row=r, col=c)
    corner = _corner_name(m.shape, r, c)
    place = _("{cell} ({corner})").format(cell=cell, corner=corner) if corner else cell
    return _("{count}, at {place}").format(count=count, place=place)


def _corner_name(shape, r: int, c: int) -> str | None:
    h, w = shape
    if h < 2 or w < 2 or r not in (0, h - 1) or c not in (0, w - 1):
        return None
    return {(0, 0): _("the top-left corner"), (0, w - 1): _("the top-right corner"),
            (h - 1, 0): _("the bottom-left corner"), (h - 1, w - 1): _("the bottom-right corner")}[(r, c)]


def _corners(m, count: str) -> str | None:
    """Only corner cells differ (two or more of them)."""
    h, w = m.shape
    cells = [tuple(int(i) for i in cell) for cell in np.argwhere(m)]
    names = [_corner_name(m.shape, r, c) for r, c in cells]
    if h < 3 or w < 3 or None in names:
        return None
    place = _("the four corners") if len(names) == 4 else listed(names)
    return _("{count}, at {place}").format(count=count, place=place)


def _one_line(m, count: str) -> str | None:
    """Every difference in one row, or in one column."""
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if m.shape[0] == 1:
        return None  # a 1D map: its positions are bands (`_bands`) or a block (`_block`)
    if len(rows) == 1:
        place = _line(int(rows[0]), m.shape[0], ("top", "bottom"), _("row {row}").format(row=int(rows[0])), m.shape)
    elif len(cols) == 1:
        place = _line(int(cols[0]), m.shape[1], ("left", "right"), _("column {col}").format(col=int(cols[0])),
                      m.shape)
    else:
        return None
    return _("{count}, all in {place}").format(count=count, place=place)


def _line(index: int, length: int, ends: tuple[str, str], numbered: str, shape) -> str:
    """A row or column by name: the first or the last, else by its number."""
    if index == 0:
        return _band(ends[0], 1, shape)
    return _band(ends[1], 1, shape) if index == length - 1 else numbered


def _band(side: str, depth: int, shape) -> str:
    """The outermost `depth` rows or columns on one side, named; a 1D map's are positions."""
    if shape[0] == 1:
        names = {"left": (_("the first position"), _("the first {count} positions")),
                 "right": (_("the last position"), _("the last {count} positions"))}
    else:
        names = {"top": (_("the first row"), _("the first {count} rows")),
                 "bottom": (_("the last row"), _("the last {count} rows")),
                 "left": (_("the first column"), _("the first {count} columns")),
                 "right": (_("the last column"), _("the last {count} columns"))}
    one, several = names[side]
    return one if depth == 1 else several.format(count=depth)


def _fewest_sides(m) -> tuple[tuple[str, ...], int] | None:
    """The fewest sides, and the least depth, whose bands hold every difference and leave an inside:
    each side with a difference on its outermost line, each band at most a third of the map deep
    (deeper, "the last 3 of 4 columns" says little)."""
    h, w = m.shape
    r, c = np.nonzero(m)
    distance = {"top": r, "bottom": h - 1 - r, "left": c, "right": w - 1 - c}
    sides = SIDES[2:] if h == 1 else SIDES
    for count in range(1, len(sides) + 1):
        found = []
        for chosen in combinations(sides, count):
            depth = int(np.min([distance[s] for s in chosen], axis=0).max()) + 1
            if _fits(chosen, depth, h, w) and all((distance[s] == 0).any() for s in chosen):
                found.append((depth, chosen))
        if found:
            depth, chosen = min(found, key=lambda pair: pair[0])
            return chosen, depth
    return None


def _fits(sides, depth: int, h: int, w: int) -> bool:
    """Bands `depth` deep on `sides` are shallow enough and leave some cell outside them all."""
    across = sum(s in sides for s in ("top", "bottom")) * depth
    along = sum(s in sides for s in ("left", "right")) * depth
    shallow = (across == 0 or depth <= max(1, h // 3)) and (along == 0 or depth <= max(1, w // 3))
    return shallow and across < h and along < w


def _bands(m, count: str) -> str | None:
    """Every difference near some sides: one band, several, or the whole border."""
    found = _fewest_sides(m)
    if found is None:
        return None
    sides, depth = found
    if len(sides) == 4:
        if depth == 1:
            return _("{count}, all on the border (the outermost rows and columns); the inside matches").format(
                count=count)
        return _("{count}, all in the outermost {depth} rows and columns; the inside matches").format(
            count=count, depth=depth)
    place = _both_ends(sides, depth, m.shape) or listed([_band(side, depth, m.shape) for side in sides])
    return _("{count}, all in {place}").format(count=count, place=place)


def _both_ends(sides, depth: int, shape) -> str | None:
    """Bands on two opposite sides, said together: "the first and last columns"."""
    if sides == ("top", "bottom"):
        names = (_("the first and last rows"), _("the first and last {count} rows"))
    elif sides == ("left", "right") and shape[0] == 1:
        names = (_("the first and last positions"), _("the first and last {count} positions"))
    elif sides == ("left", "right"):
        names = (_("the first and last columns"), _("the first and last {count} columns"))
    else:
        return None
    return names[0] if depth == 1 else names[1].format(count=depth)


def _few_lines(m, count: str) -> str | None:
    """Every difference in two or three rows, or columns (whichever are fewer), unless they are close
    together in both directions."""
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if m.shape[0] == 1 or min(len(rows), len(cols)) > 3:
        return None
    lines = min(len(rows) * m.shape[1], len(cols) * m.shape[0])
    if 2 * (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1) < lines:
        return None  # a block half their size says more (`_block`)
    if len(rows) <= len(cols):
        place = _("rows {rows}").format(rows=listed([str(int(i)) for i in rows]))
    else:
        place = _("columns {cols}").format(cols=listed([str(int(i)) for i in cols]))
    return _("{count}, all in {place}").format(count=count, place=place)


def _block(m, count: str) -> str | None:
    """Every difference inside a rectangle of at most half the map."""
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    if (bottom - top + 1) * (right - left + 1) * 2 > m.size:
        return None
    if m.shape[0] == 1:
        place = _("positions {first}–{last}").format(first=left, last=right)
    else:
        place = _("rows {top}–{bottom}, columns {left}–{right}").format(top=top, bottom=bottom, left=left,
                                                                       right=right)
    return _("{count}, all within {place}").format(count=count, place=place)


def _scattered(m, count: str) -> str:
    """No tighter pattern: how many rows and columns the differences spread over."""
    if m.shape[0] == 1:
        return _("{count}, scattered along the {length} positions").format(count=count, length=m.shape[1])
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    return _("{count}, scattered over {rows} of {height} rows and {cols} of {width} columns").format(
        count=count, rows=len(rows), height=m.shape[0], cols=len(cols), width=m.shape[1])

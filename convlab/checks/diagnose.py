"""Feedback wording: exceptions in one line, banned kernels by name, and the likely mistake.

The likely mistake is found, not guessed: each exercise computes torch's answer under a few
mistaken variants (kernel flipped, stride ignored, padding on one side...), and the first one
that matches the learner's output, in shape or in values, is named.
"""
from __future__ import annotations

import functools
import linecache
import os
import site
import sys

import torch

from convlab.checks.compare import compare, shape_of
from convlab.i18n import _

_FRIENDLY = {
    "constant_pad_nd": "F.pad", "pad": "F.pad", "pad_circular": "F.pad", "pad_enum": "F.pad",
    "reflection_pad2d": "F.pad (reflect)", "replication_pad2d": "F.pad (replicate)",
    "im2col": "F.unfold (im2col)", "col2im": "F.fold (col2im)",
    "max_pool2d_with_indices": "max_pool2d", "convolution": "convolution (F.conv2d)",
}


def first_line(exc: BaseException, limit: int = 200) -> str:
    """'ValueError: first line of the message', cut to ``limit`` characters."""
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@functools.lru_cache(maxsize=1)
def _installed() -> tuple[str, ...]:
    """Where code that is not the learner's lives: this Python, its packages and convlab itself."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(__file__)),
             *site.getsitepackages(), site.getusersitepackages()}
    return tuple(os.path.realpath(root).rstrip(os.sep) + os.sep for root in roots if root)


def _learners(filename: str) -> bool:
    """Whether a frame's file is the learner's: a notebook cell, or a file of theirs."""
    if filename.startswith("<"):
        return filename.startswith(("<cell", "<ipython-input"))
    return not os.path.realpath(filename).startswith(_installed())


def your_line(exc: BaseException, limit: int = 100) -> str:
    """Where in the learner's own code ``exc`` was raised, as ' (your line 4: out = X @ K)': the
    deepest frame of theirs in its traceback, never a line of convlab or torch; '' where none is."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        if _learners(tb.tb_frame.f_code.co_filename):
            found = tb
        tb = tb.tb_next
    if found is None:
        return ""
    where = _("your line {number}").format(number=found.tb_lineno)
    text = " ".join(linecache.getline(found.tb_frame.f_code.co_filename, found.tb_lineno).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f" ({where}: {text})" if text else f" ({where})"


def banned_message(op: str) -> str:
    """'uses torch's own convolution (F.conv2d) (aten.convolution) — write it yourself…'."""
    short = op.split(".", 1)[-1]
    friendly = _FRIENDLY.get(short.lstrip("_"), short.lstrip("_"))
    return _("uses torch's own {kernel} ({op}) — write it yourself with tensor operations.").format(
        kernel=friendly, op=op)


def likely_mistakes(variants, output, ref, dtype, shape_only: bool = False) -> list[str]:
    """The labels, in order and without repeats, of the ``(label, answer)`` variants the output matches.

    When the output has the wrong size (or only shapes are known, on the meta device), a
    variant matches by shape; otherwise by values within the dtype's tolerance. A variant that
    is a single tensor where torch returns a tuple (values, indices) is matched against the first.
    """
    found: list[str] = []
    for label, wrong in variants:
        if wrong is None or label in found:
            continue
        out, right = output, ref
        if isinstance(ref, tuple) and not isinstance(wrong, tuple):  # a variant of the first output only
            if not isinstance(output, (tuple, list)) or len(output) == 0:
                continue
            out, right = output[0], ref[0]
        got, want = shape_of(out), shape_of(right)
        if shape_only or got != want:
            if got != want and shape_of(wrong) == got:
                found.append(label)
            continue
        if compare(out, wrong, dtype, None, values=True, strict_dtype=False) is None:
            found.append(label)
    return found


def normalise_answer(value):
    """An answer as comparable plain data: int, float, or nested tuples of them; None if not one."""
    if isinstance(value, bool):
        return None
    if type(value) is int:
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, torch.Size) or isinstance(value, (tuple, list)):
        items = tuple(normalise_answer(v) for v in value)
        return None if any(i is None for i in items) else items
    try:
        import numpy as np
        if isinstance(value, np.integer):
            return int(value)
    except ImportError:  # numpy is a dependency, but answers never need it
        pass
    if isinstance(value, torch.Tensor) and type(value) is torch.Tensor and value.numel() == 1 \
            and not value.is_floating_point():
        return int(value.reshape(-1)[0])
    return None

"""Judging one output against torch's: type, device, dtype, shape, then values with dtype-aware tolerance.

Every torch function used here is bound at import, so a learner who later patches
``torch.allclose``, ``torch.abs`` or ``Tensor.__eq__`` does not change the verdict; the learner's
object is never asked to compare itself (no ``==`` on it), and only a plain ``torch.Tensor``
counts as a tensor. The same code judges records outside the kernel (``autograder.grading.rejudge``).
"""
from __future__ import annotations

import numpy as np
import torch

from convlab.checks.problems import Kind, Problem
from convlab.i18n import _

_Tensor = torch.Tensor
_type = type
_to = torch.Tensor.to
_reshape = torch.Tensor.reshape
_is_floating = torch.Tensor.is_floating_point
_numel = torch.Tensor.numel
_abs = torch.abs
_sub = torch.sub
_amax = torch.amax
_any = torch.any
_argmax = torch.argmax
_isnan = torch.isnan
_isfinite = torch.isfinite
_ne = torch.ne
_eq = torch.eq
_where = torch.where
_equal = torch.equal
_full_like = torch.full_like
_unravel = np.unravel_index

#: Relative tolerance by the dtype under test, scaled by max(1, largest |reference|).
RTOL = {
    torch.float64: 1e-7,
    torch.float32: 1e-4,
    torch.float16: 1e-2,
    torch.bfloat16: 5e-2,
}


def dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def tolerance(dtype: torch.dtype, reference: torch.Tensor) -> float:
    """Largest allowed absolute error for ``dtype``: RTOL scaled by max(1, max |reference|)."""
    rtol = RTOL.get(dtype, 1e-4)
    finite = reference[_isfinite(reference)]
    scale = float(_amax(_abs(finite))) if _numel(finite) else 1.0
    return rtol * max(1.0, scale)


def max_error(out64: torch.Tensor, ref64: torch.Tensor):
    """(largest |out - ref|, its index); NaN, or an infinity torch does not have, counts as inf."""
    if _numel(ref64) == 0:
        return 0.0, ()
    same_inf = _eq(out64, ref64) & ~_isfinite(ref64)
    diff = _abs(_sub(out64, ref64))
    diff = _where(same_inf, _full_like(diff, 0.0), diff)
    diff = _where(_isnan(diff), _full_like(diff, float("inf")), diff)
    flat_diff = _reshape(diff, (-1,))
    flat = int(_argmax(flat_diff))
    index = tuple(int(i) for i in _unravel(flat, tuple(ref64.shape)))
    return float(flat_diff[flat]), index


def fmt_index(index) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def is_integer_dtype(dtype) -> bool:
    return not dtype.is_floating_point and not dtype.is_complex and dtype != torch.bool


def as_int(value):
    """A plain int from an int-like answer (int, numpy integer, one-element integer tensor), else None."""
    if _type(value) is int:
        return value
    if isinstance(value, np.integer) and _type(value).__module__ == "numpy":
        return int(value)
    if _type(value) is _Tensor and _numel(value) == 1 and is_integer_dtype(value.dtype):
        return int(_reshape(_to(value, "cpu"), (-1,))[0])
    return None


def shape_of(value):
    """A comparable outline: a tensor's shape, a tuple of outlines, or the Python type for scalars."""
    if _type(value) is _Tensor:
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(shape_of(v) for v in value)
    return _type(value).__name__


def describe_value(value) -> str:
    """'a list', 'None', 'a numpy.ndarray' — what a wrong kind of answer is, in a few words."""
    if value is None:
        return "None"
    kind = _type(value)
    module = kind.__module__
    name = kind.__name__ if module in ("builtins", None) else f"{module.split('.')[0]}.{kind.__name__}"
    return _("a {name}").format(name=name)


def named(label: str) -> str:
    """A compared part's name as the learner reads it: 'output[1]' in their language, index kept."""
    base, bracket, index = label.partition("[")
    return _(base) + bracket + index


def compare(out, ref, dtype, device, values: bool = True, strict_dtype: bool = True, label: str = "output"):
    """What is wrong with ``out`` against ``ref`` (a one-line ``Problem``), or None when it matches.

    ``ref`` is torch's answer: a float64/int64 CPU tensor, a tuple of answers, or an int.
    ``dtype`` is the dtype under test (floating outputs must have it); ``device`` is where
    the output must live (None: anywhere); ``values=False`` checks everything but values.
    ``label`` names the part compared in the problem it returns, and, translated, in its text.
    """
    if isinstance(ref, tuple):
        return _compare_tuple(out, ref, dtype, device, values, strict_dtype, label)
    if _type(ref) is int:
        return _compare_int(out, ref, label)
    if _type(ref) is not _Tensor:
        raise TypeError(f"reference must be a tensor, a tuple or an int, got {_type(ref).__name__}")
    return _compare_kind(out, ref, dtype, device, strict_dtype, label) or (
        _compare_values(out, ref, dtype, label) if values else None)


def _compare_tuple(out, ref: tuple, dtype, device, values: bool, strict_dtype: bool, label: str):
    """A tuple of answers: the same count, each part compared in turn."""
    if not isinstance(out, (tuple, list)):
        return Problem(Kind.WRONG_RETURN, _("should return a tuple of {count} values, got {got}.").format(
            count=len(ref), got=describe_value(out)))
    if len(out) != len(ref):
        return Problem(Kind.WRONG_RETURN, _("should return {count} values, got {got}.").format(
            count=len(ref), got=len(out)))
    for i, (o, r) in enumerate(zip(out, ref)):
        problem = compare(o, r, dtype, device, values, strict_dtype, f"{label}[{i}]")
        if problem:
            return problem
    return None


def _compare_int(out, ref: int, label: str):
    got = as_int(out)
    if got is None:
        return Problem(Kind.WRONG_RETURN, _("should return an int, got {got}.").format(got=describe_value(out)))
    return None if got == ref else Problem(
        Kind.WRONG_VALUES, _("wrong {label}: got {got}, expected {expected}.").format(label=named(label), got=got,
                                                                                      expected=ref), label)


def _compare_kind(out, ref, dtype, device, strict_dtype: bool, label: str):
    """Everything of a tensor output but its values: a plain tensor, its device, dtype and shape."""
    said = named(label)
    if _type(out) is not _Tensor:
        if isinstance(out, _Tensor):
            return Problem(Kind.WRONG_TYPE, _("{label} should be a plain torch.Tensor, got a subclass ({got}).").format(
                label=said, got=_type(out).__name__), label)
        return Problem(Kind.WRONG_TYPE, _("{label} should be a torch.Tensor, got {got}.").format(
            label=said, got=describe_value(out)), label)
    if device is not None and out.device.type != torch.device(device).type:
        return Problem(Kind.WRONG_DEVICE, _("wrong device: {label} is on {got} for input on {device}. Create new "
                                            "tensors on the input's device (device=input.device, or "
                                            "torch.zeros_like).").format(label=said, got=out.device.type,
                                                                         device=device), label)
    want = dtype if (_is_floating(ref) and dtype is not None) else ref.dtype
    if strict_dtype and out.dtype != want:
        return Problem(Kind.WRONG_DTYPE, _("wrong dtype: {label} is {got}, expected {expected}.").format(
            label=said, got=dtype_name(out.dtype), expected=dtype_name(want)), label)
    if tuple(out.shape) != tuple(ref.shape):
        return Problem(Kind.WRONG_SHAPE, _("wrong output size: expected {expected}, got {got}.").format(
            expected=tuple(ref.shape), got=tuple(out.shape)), label)
    return None


def _compare_values(out, ref, dtype, label: str):
    """A tensor output's values against torch's: exactly for integers, within tolerance for floats."""
    said = named(label)
    cpu = _to(out, "cpu")
    if not _is_floating(ref):
        mismatch = _reshape(_ne(_to(cpu, ref.dtype), ref), (-1,))
        if bool(_any(mismatch)):
            flat = int(_argmax(_to(mismatch, torch.int64)))
            index = tuple(int(i) for i in _unravel(flat, tuple(ref.shape)))
            return Problem(Kind.WRONG_VALUES, _("wrong {label} at {index}: got {got}, expected {expected}.").format(
                label=said, index=fmt_index(index), got=int(_reshape(cpu, (-1,))[flat]),
                expected=int(_reshape(ref, (-1,))[flat])), label)
        return None
    out64 = _to(cpu, torch.float64)
    err, index = max_error(out64, ref)
    if err <= tolerance(dtype or out.dtype, ref):
        return None
    got, exp = float(out64[index]), float(ref[index])
    return Problem(Kind.WRONG_VALUES, _("wrong values: largest error {error} at {index} (got {got}, expected "
                                        "{expected}).").format(error=f"{err:.3g}", index=fmt_index(index),
                                                                got=f"{got:.4g}", expected=f"{exp:.4g}"), label)

"""Checks that notebook test cells call: each compares a learner's function with torch."""
from convlab.checks.guard import BANNED_ATEN_OPS, KERNEL_OPS, forbid_builtin_kernels

__all__ = ["BANNED_ATEN_OPS", "KERNEL_OPS", "forbid_builtin_kernels"]

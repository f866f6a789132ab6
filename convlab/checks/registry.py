"""Where the grader finds an exercise by the name its records and test cells use ('lessonNN.attr')."""
from __future__ import annotations

import importlib
import re

from convlab.checks.core import Exercise

CHECK_NAME = re.compile(r"^lesson\d\d\.[A-Za-z_][A-Za-z0-9_]*$")


def find(check: str) -> Exercise | None:
    """The Exercise object for 'lessonNN.name', or None when there is none."""
    if not isinstance(check, str) or not CHECK_NAME.match(check):
        return None
    module_name, attribute = check.split(".")
    try:
        module = importlib.import_module(f"convlab.checks.{module_name}")
    except ImportError:
        return None
    exercise = getattr(module, attribute, None)
    return exercise if isinstance(exercise, Exercise) and exercise.name == check else None

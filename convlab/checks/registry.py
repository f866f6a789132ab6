"""Which exercises exist: the Exercise instances of the lesson modules, each named 'lessonNN.attribute'
by where it is bound, with what defines it (parameters, bans, the points its test cells carry).

The grader finds an exercise by the name its records and test cells use (``find``); the build
refuses a test cell calling a name not here; docs/exercises.md is rendered from ``entries()``.
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from convlab.checks.core import Exercise
from convlab.checks.guard import CONVOLUTION_OPS, IM2COL_OPS, PADDING_OPS, POOLING_OPS, SHUFFLE_OPS
from convlab.checks.questions import Question

CHECK_NAME = re.compile(r"^lesson\d\d\.[A-Za-z_][A-Za-z0-9_]*$")
SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
#: torch's kernels an exercise may ban, by the words the docs use for them.
KERNEL_GROUPS = (("convolution", CONVOLUTION_OPS), ("pooling", POOLING_OPS), ("im2col/col2im", IM2COL_OPS),
                 ("padding", PADDING_OPS), ("channel shuffle", SHUFFLE_OPS))
_TEST_IMPORT = re.compile(r"from convlab\.checks import (lesson\d\d) as (\w+)")


class RegistryError(RuntimeError):
    """A lesson module binds an exercise under a name it does not derive (an alias, a second instance)."""


@dataclass(frozen=True)
class Entry:
    """One exercise and what defines it."""

    name: str                           # 'lesson01.corr2d'
    exercise: Exercise
    summary: str                        # the learner's function: the first line of the class docstring
    parameters: tuple[str, ...]         # how feedback names the positional arguments
    banned_references: tuple[str, ...]  # the course's twins, e.g. 'convlab.naive.conv2d (grouped calls)'
    banned_kernels: tuple[str, ...]     # torch's own kernels: 'convolution', 'pooling', ...
    points: float | None                # of its test cells in solutions/, None when none are found

    @property
    def lesson(self) -> str:
        return self.name[len("lesson"):len("lessonNN")]


def lesson_modules() -> list:
    """convlab.checks.lesson01, lesson02, ...: every lesson module there is, imported, in order."""
    names = sorted(path.stem for path in Path(__file__).parent.glob("lesson[0-9][0-9].py"))
    return [importlib.import_module(f"convlab.checks.{name}") for name in names]


def exercises() -> dict[str, Exercise]:
    """Every exercise by name, in lesson order; refuses one whose name is not where it is bound."""
    found = {}
    for module in lesson_modules():
        lesson = module.__name__.rsplit(".", 1)[-1]
        for attribute, value in vars(module).items():
            if not isinstance(value, Exercise):
                continue
            if value.name != f"{lesson}.{attribute}":
                raise RegistryError(f"{lesson}.{attribute} is named {value.name!r}: bind one instance of a class "
                                    "defined in its own lesson module, and give it no name of its own")
            found[value.name] = value
    return found


def questions() -> dict[str, Question]:
    """Every 'check your understanding' question by name ('lesson01.output_shape'), in lesson order."""
    return {value.name: value for module in lesson_modules() for value in vars(module).values()
            if isinstance(value, Question)}


def _bound(name, kind):
    """The `kind` instance bound at 'lessonNN.attribute' under that very name, or None."""
    if not isinstance(name, str) or not CHECK_NAME.match(name):
        return None
    module_name, attribute = name.split(".")
    try:
        module = importlib.import_module(f"convlab.checks.{module_name}")
    except ImportError:
        return None
    value = getattr(module, attribute, None)
    return value if isinstance(value, kind) and value.name == name else None


def find_question(name: str) -> Question | None:
    """The Question bound at 'lessonNN.name', or None when there is none."""
    return _bound(name, Question)


def find(check: str) -> Exercise | None:
    """The Exercise object for 'lessonNN.name', or None when there is none."""
    return _bound(check, Exercise)


def _reference_name(reference) -> str:
    """'convlab.functional.conv2d', or with its condition: 'convlab.functional.conv2d (grouped calls)'."""
    if isinstance(reference, tuple):  # references.when(name, condition)
        name, condition = reference
        return f"{name} ({condition.__name__.strip('_')} calls)"
    return reference


def points(solutions: Path = SOLUTIONS) -> dict[str, float]:
    """Points of each exercise's test cells in the solutions' nbgrader metadata (none without solutions/)."""
    found: dict[str, float] = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            source = "".join(cell["source"])
            names = {f"{lesson}.{attribute}" for lesson, alias in _TEST_IMPORT.findall(source)
                     for attribute in re.findall(rf"\b{alias}\.(\w+)\(", source)}
            if len(names) == 1:  # a cell's points belong to its one exercise
                name = names.pop()
                found[name] = found.get(name, 0) + meta.get("points", 0)
    return found


def entries(solutions: Path = SOLUTIONS) -> list[Entry]:
    """Every exercise with what defines it, in lesson order."""
    earned = points(solutions)
    return [Entry(name, exercise, (type(exercise).__doc__ or "").strip().splitlines()[0], tuple(exercise.arg_names),
                  tuple(_reference_name(r) for r in exercise.references),
                  tuple(words for words, ops in KERNEL_GROUPS if ops <= exercise.banned), earned.get(name))
            for name, exercise in exercises().items()]

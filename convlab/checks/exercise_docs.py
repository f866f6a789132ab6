"""docs/exercises.md, rendered from the registry so that it cannot drift from the exercises themselves.

    convlab build                                       (writes it, with the other derived documents)
    python -m convlab.checks.exercise_docs > docs/exercises.md   (the same, by hand)
"""
from __future__ import annotations

from convlab.checks.questions import Question
from convlab.checks.registry import Entry, entries, questions

INTRODUCTION = '''\
# Exercises and their checks

Every exercise is an nbgrader autograded-answer cell defining a function, followed by one or more
autograder-test cells. A test cell calls the exercise's check from `convlab.checks.lessonNN`:

```python
from convlab.checks import lesson01 as check
check.corr2d(corr2d)                 # visible test: a few random cases
```

and the hidden test (between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`) calls the same
check with a seed that appears only there, so it draws different random cases:

```python
### BEGIN HIDDEN TESTS
check.corr2d(corr2d, seed=831, cases=20)
### END HIDDEN TESTS
```

Every check has the signature `check.NAME(fn, *, seed=0, cases=None)`; it returns `None` when the
learner's function is right and raises `convlab.checks.CheckFailed` (an `AssertionError`) with short
feedback otherwise. A "check your understanding" question is a `Question` of the lesson's check
module, checked in a visible test cell (`check.output_shape(output_shape())`): its answer is
computed there from `convlab.shapes`, never written in the lesson, and so are the slips it names
(listed below).
A check's name is where it is defined: `lesson01.corr2d` is the `corr2d` of `convlab.checks.lesson01`.
Points are those of the exercise's test cells in `solutions/`.
'''

BANS = '''\
## What each exercise bans

Calling one of these from your function earns no points for that exercise ("uses the course's
reference convlab.functional.conv2d — write it yourself"), however it is reached: an alias, a closure,
`functools.partial`, a subclass or a helper of yours. torch's own kernels named in the second column
are banned too. What is not listed — an earlier lesson's kernel, `convlab.shapes` outside the size
exercises — you may reuse.
The kernels' own insides (their private helpers, helpers they do not export such as
`convlab.functional.fold.windows` and `convlab.naive.scatter_add`, which draws lesson 09's figure) are banned in
every exercise that bans anything, and so are torch's convolution kernels outside `aten` (oneDNN,
quantized).
'''


def _learners_function(entry: Entry) -> str:
    """'`corr2d(X, K)` — 2D X (H, W), ...' from the docstring's 'signature: what it is'."""
    signature, _, description = entry.summary.rstrip(".").partition(": ")
    return f"`{signature}` — {description}" if description else f"`{signature}`"


def _references(entry: Entry) -> str:
    """'`convlab.naive.corr2d`, `convlab.functional.conv2d` (grouped calls)': names in backticks."""
    return ", ".join(f"`{name}`{' ' if when else ''}{when}" for name, _, when in
                     (reference.partition(" ") for reference in entry.banned_references))


def _points(entry: Entry) -> str:
    return "" if entry.points is None else f"{entry.points:g}"


QUESTIONS = '''\
## Check your understanding

Each question's test cell says whether the answer is right and names the slip when the answer is
one of these.
'''


def _slips(question: Question) -> str:
    return "; ".join(slip for slip, _ in question.slips) or "—"


def render(found: list[Entry], asked: dict[str, Question] | None = None) -> str:
    """The whole of docs/exercises.md."""
    lines = [INTRODUCTION, "| lesson | check | learner's function | points |", "|---|---|---|---|"]
    lines += [f"| {e.lesson} | `{e.name}` | {_learners_function(e)} | {_points(e)} |" for e in found]
    lines += ["", BANS, "| check | torch's own kernels | banned references |", "|---|---|---|"]
    lines += [f"| `{e.name}` | {', '.join(e.banned_kernels)} | {_references(e)} |"
              for e in found]
    if asked:
        lines += ["", QUESTIONS, "| question | slips it names |", "|---|---|"]
        lines += [f"| `{name}` | {_slips(q)} |" for name, q in asked.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(entries(), questions()), end="")

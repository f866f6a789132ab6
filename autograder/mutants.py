"""Which wrong answers a lesson's test cells catch: each exercise's answer mutated, run through the
very check calls its test cells make, visible and hidden.

Shared by `convlab audit` and `convlab build` (`autograder.authoring.audit`) and by the instructor
report (`autograder.grading.report`), which may not import each other.

A mutant is a wrong answer to an exercise, case by case:
- each named mistake of the exercise (`Exercise.mistakes`, the catalogue feedback names mistakes
  from), labelled as the mistake is; where a label comes twice in a case (two ways to be off by
  one), the second is 'label (2)';
- a few generic ones: for a tensor answer, its last row dropped, its last two axes swapped, zeros,
  and the right answer + 1e-2; for an int answer (shape arithmetic), every int off by one.
A mutant that does not apply to a case (a mistake not yielded for it, a 1-D answer to transpose)
answers that case right, as a learner making that mistake would.

How a mutant answers without computing inside the guard. While a check calls the learner's function
it refuses torch's kernels and the course's references, so a mutant cannot compute its answer there.
It need not: the cases a check call draws are a function of the exercise, seed and case count
(`Exercise.cases`), so every answer is computed beforehand, outside the guard, from float64 copies
of each case as `diagnose` computes mistakes, then cast back to the case's dtype. Inside the guard
the mutant only looks its answer up, by a digest of the arguments it is given (their values; on the
meta device, where there are none, their shapes and dtypes, which fix an answer's shape), and moves
it to the arguments' device. A look-up that finds nothing is an error of the audit, never a catch.

A check call is `Exercise.run(mutant, seed, cases)`: what calling the check does after `prepare`
(which wraps a learner's class: the mutant stands for the wrapped call) and without the record and
the figure; it runs every case on every device under the guard and judges it as always. A mutant is
caught when the call fails. Where an exercise's `call` turns the learner's output into what it
judges (lesson08.separable_kernel judges column @ row), the mutant answers what is judged.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import re
import types
from dataclasses import dataclass, field

import torch
from nbformat import NotebookNode

from autograder import cell_meta
from autograder.grading.verification import Call, check_calls
from convlab.checks import registry
from convlab.checks.core import Exercise, as_float64, quiet

#: The generic mutants of a tensor answer and of an int answer, in the order tables show them.
ROW_DROPPED = "last row dropped (off-by-one size)"
AXES_SWAPPED = "last two axes swapped"
ZEROS = "zeros of the right shape"
NUDGED = "right answer + 1e-2 (tolerance)"
OFF_BY_ONE = "every int off by one"
GENERIC = (ROW_DROPPED, AXES_SWAPPED, ZEROS, NUDGED, OFF_BY_ONE)


class AuditError(RuntimeError):
    """The audit itself went wrong (a mutant found no answer for a case it was called on)."""


# -- mutants' answers ---------------------------------------------------------------------------------

def _map(value, fn):
    """`value` with `fn` applied to every tensor in it (nested in tuples and lists)."""
    if isinstance(value, torch.Tensor):
        return fn(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_map(v, fn) for v in value)
    return value


def _first_tensor(value, fn):
    """`value` with `fn` applied to its first tensor only; None where it holds no tensor or `fn` gives None."""
    results = []

    def once(t):
        if results:
            return t
        results.append(fn(t))
        return results[0]

    mapped = _map(value, once)
    return mapped if results and results[0] is not None else None


def _ints_plus_one(value):
    """Every int of an answer made of ints (nested in tuples and lists) plus one; None for any other answer."""
    if type(value) is int:
        return value + 1
    if isinstance(value, (tuple, list)) and value:
        items = [_ints_plus_one(v) for v in value]
        return None if any(i is None for i in items) else type(value)(items)
    return None


def _generic(right) -> dict:
    """The generic mutants' answers for one case whose right answer is `right` (those that apply)."""
    tensor = {
        ROW_DROPPED: lambda t: t[..., :-1, :] if t.dim() >= 2 else (t[:-1] if t.dim() == 1 else None),
        AXES_SWAPPED: lambda t: t.transpose(-2, -1) if t.dim() >= 2 else None,
        ZEROS: torch.zeros_like,
        NUDGED: lambda t: t + 1e-2 if t.is_floating_point() else None,
    }
    found = {label: _first_tensor(right, fn) for label, fn in tensor.items()}
    found[OFF_BY_ONE] = _ints_plus_one(right)
    return {label: answer for label, answer in found.items() if answer is not None}


def _named_mistakes(exercise: Exercise, case) -> dict:
    """The exercise's named mistakes for `case`, as `diagnose` computes them (float64 copies; a
    variant torch rejects ends the list), keyed by label, a repeated label numbered: 'label (2)'."""
    args, kwargs = as_float64(case.args), as_float64(case.kwargs)
    found: dict = {}
    seen: dict[str, int] = {}
    try:
        with quiet():
            for label, answer in exercise.mistakes(*args, **kwargs):
                seen[label] = seen.get(label, 0) + 1
                if answer is not None:
                    found[label if seen[label] == 1 else f"{label} ({seen[label]})"] = answer
    except Exception:  # as diagnose: the variants before the one torch rejects still count
        pass
    return found


def _completed(wrong, right):
    """A mistake's answer in full: one tensor where torch answers a tuple (values, indices) is a
    variant of the first part (as `diagnose.likely_mistakes` reads it), the rest answered right."""
    if isinstance(right, tuple) and not isinstance(wrong, tuple):
        return (wrong, *right[1:])
    return wrong


def _cast(value, dtype):
    """Floating tensors of `value` in the case's dtype (float64 answers cast back), on the CPU."""
    if dtype is None:
        return value
    return _map(value, lambda t: t.to(dtype) if t.is_floating_point() else t)


# -- looking an answer up inside the guard ------------------------------------------------------------

def _key(value, values: bool):
    """A hashable digest of a call's arguments: tensors by shape, dtype and (with `values`) bytes."""
    if isinstance(value, torch.Tensor):
        data = value.detach()
        digest = hashlib.blake2b(data.cpu().contiguous().numpy().tobytes(), digest_size=16).hexdigest() \
            if values and data.device.type != "meta" else None
        return ("tensor", tuple(data.shape), str(data.dtype), digest)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_key(v, values) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _key(v, values)) for k, v in value.items())))
    return ("value", repr(value))


def _device(value) -> str | None:
    """The device of the first tensor among a call's arguments (None where there is none)."""
    if isinstance(value, torch.Tensor):
        return value.device.type
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
    for item in items:
        found = _device(item)
        if found is not None:
            return found
    return None


def _placed(value, device: str):
    """An answer on `device`: a copy, or on meta an empty tensor of its shape and dtype."""
    if device == "meta":
        return _map(value, lambda t: torch.empty(t.shape, dtype=t.dtype, device="meta"))
    return _map(value, lambda t: t.to(device, copy=True))


@dataclass
class Answers:
    """One mutant's answers to the cases of one check call, found by their arguments."""

    by_values: dict = field(default_factory=dict)
    by_shapes: dict = field(default_factory=dict)
    misses: list = field(default_factory=list)

    def add(self, case, answer) -> None:
        arguments = (case.args, case.kwargs)
        self.by_values[_key(arguments, True)] = answer
        self.by_shapes.setdefault(_key(arguments, False), answer)

    def __call__(self, *args, **kwargs):
        """The mutant as the check calls it: its answer for these arguments, on their device."""
        device = _device((args, kwargs)) or "cpu"
        table = self.by_shapes if device == "meta" else self.by_values
        key = _key((args, kwargs), device != "meta")
        if key not in table:
            self.misses.append(key)
            raise LookupError("no answer for these arguments")
        return _placed(table[key], device)


# -- one check call against every mutant ----------------------------------------------------------------

RIGHT = "the right answer"


def call_answers(exercise: Exercise, seed: int, cases: int | None) -> dict[str, Answers]:
    """Every mutant's answers (and the right answer, under RIGHT) to the cases `exercise` draws for
    (`seed`, `cases`), computed outside the guard."""
    drawn = exercise.cases(seed, cases)
    per_case = []
    for case in drawn:
        right = exercise.expected(case)
        named = {label: _completed(wrong, right) for label, wrong in _named_mistakes(exercise, case).items()}
        per_case.append((case, right, {**named, **_generic(right)}))
    labels = list(dict.fromkeys(label for _case, _right, wrong in per_case for label in wrong))
    mutants = {label: Answers() for label in [RIGHT, *labels]}
    for case, right, wrong in per_case:
        for label, answers in mutants.items():
            answers.add(case, _cast(wrong.get(label, right), case.dtype))
    return mutants


def _runner(exercise: Exercise) -> Exercise:
    """The exercise, or where its `call` adapts the learner's output, a copy calling `Exercise.call`
    (of the same class, so it keeps the exercise's name, and with it the seeds' salt)."""
    if type(exercise).call is Exercise.call:
        return exercise
    runner = copy.copy(exercise)
    runner.call = types.MethodType(Exercise.call, runner)
    return runner


def failure(exercise: Exercise, answers: Answers, seed: int, cases: int | None) -> str | None:
    """The check call's feedback on the mutant `answers` (None: it passed); a failed look-up is an AuditError."""
    _runs, _drawn, message, _shown = _runner(exercise).run(answers, seed, cases)
    if answers.misses:
        raise AuditError(f"{exercise.name}: a mutant found no answer for a case of seed={seed!r}, cases={cases!r}")
    return message


# -- a notebook's test cells --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Test:
    """The visible or the hidden part of one test cell, as far as it calls one exercise."""

    cell: str            # grade_id
    hidden: bool
    points: float
    calls: tuple[Call, ...]
    sizes: tuple[int, ...]  # how many cases each call draws (its `cases`, else the exercise's default)

    @property
    def part(self) -> str:
        return "hidden" if self.hidden else "visible"

    @property
    def runs(self) -> str:
        """'seed 1101, 20 cases': what its calls draw."""
        return "; ".join(f"seed {call.seed}, {size} case{'' if size == 1 else 's'}"
                         for call, size in zip(self.calls, self.sizes))


@dataclass
class ExerciseAudit:
    """Which mutants of one exercise each of its tests catches, and where the right answer fails."""

    exercise: str
    mutants: tuple[str, ...]
    tests: list[Test]
    caught: dict[Test, frozenset]
    errors: list[str] = field(default_factory=list)

    def union(self, hidden: bool) -> frozenset:
        """What the visible (or the hidden) tests catch together."""
        return frozenset().union(*(self.caught[t] for t in self.tests if t.hidden == hidden))

    @property
    def missed(self) -> list[str]:
        """The mutants the visible tests catch and the hidden ones do not (none without a hidden test)."""
        if not any(t.hidden for t in self.tests):
            return []
        hidden = self.union(True)
        return [label for label in self.mutants if label in self.union(False) and label not in hidden]

    def problems(self) -> list[str]:
        """One line per failure of the right answer, and one where the hidden tests catch less."""
        if not self.missed:
            return list(self.errors)
        cells = {part: ", ".join(dict.fromkeys(t.cell for t in self.tests if t.part == part))
                 for part in ("visible", "hidden")}
        return [*self.errors, f"{self.exercise}: the hidden tests ({cells['hidden']}) catch fewer mutants than the "
                f"visible ones ({cells['visible']}); they miss: {'; '.join(short(m) for m in self.missed)}"]


def _split(source: str) -> tuple[list[Call], list[Call]]:
    """A test cell's check calls: those a learner sees, and those between the hidden-test markers."""
    every = check_calls(source)
    visible = check_calls(cell_meta.remove_region(source, cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN))
    hidden = list(every)
    for call in visible:
        hidden.remove(call)
    return visible, hidden


def tests(nb: NotebookNode, find=registry.find) -> dict[str, list[Test]]:
    """Per exercise (in notebook order), its tests: each test cell's visible and hidden parts calling it."""
    found: dict[str, list[Test]] = {}
    for cell in filter(cell_meta.is_test_cell, nb.cells):
        for hidden, calls in zip((False, True), _split(cell.source)):
            for name in dict.fromkeys(call.check for call in calls if find(call.check) is not None):
                mine = tuple(call for call in calls if call.check == name)
                sizes = tuple(call.cases or find(name).default_cases for call in mine)
                found.setdefault(name, []).append(Test(cell_meta.grade_id(cell) or "", hidden,
                                                       cell_meta.points(cell), mine, sizes))
    return found


def audit_exercise(exercise: Exercise, name: str, tests_of: list[Test]) -> ExerciseAudit:
    """Run every call of `tests_of` against every mutant of `exercise` (each (seed, cases) once)."""
    outcomes: dict = {}  # (seed, cases) -> {label: caught}
    errors = []
    for test in tests_of:
        for call in test.calls:
            key = (call.seed, call.cases)
            if key in outcomes:
                continue
            mutants = call_answers(exercise, call.seed, call.cases)
            right = failure(exercise, mutants.pop(RIGHT), call.seed, call.cases)
            if right is not None:
                errors.append(f"{name}: the right answer fails {test.cell} ({test.part}, seed={call.seed!r}, "
                              f"cases={call.cases!r}): {' / '.join(right.splitlines())}")
            outcomes[key] = {label: failure(exercise, answers, *key) is not None for label, answers in mutants.items()}
    labels = tuple(dict.fromkeys(label for found in outcomes.values() for label in found))
    order = {label: i for i, label in enumerate(GENERIC)}
    labels = tuple(sorted(labels, key=lambda label: order.get(label, -1)))  # named mistakes first, as drawn
    caught = {test: frozenset(label for call in test.calls
                              for label, hit in outcomes[(call.seed, call.cases)].items() if hit)
              for test in tests_of}
    return ExerciseAudit(name, labels, list(tests_of), caught, errors)


@contextlib.contextmanager
def one_thread():
    """torch on one thread, as before afterwards: a case's tensors are tiny, and worker threads only add
    their wake-ups (the whole course: 3 s on one thread, 23 s on two, on a busy two-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def audit_notebook(nb: NotebookNode, find=registry.find) -> list[ExerciseAudit]:
    """Every exercise a notebook's test cells call, audited (see the module docstring)."""
    with one_thread():
        return [audit_exercise(find(name), name, found) for name, found in tests(nb, find).items()]


def short(label: str) -> str:
    """A mutant's name without its explanation, its number kept: 'kernel flipped — that is convolution; ...'
    -> 'kernel flipped', 'window count off by one — a size-n input ... (2)' -> 'window count off by one (2)'."""
    name, dash, explanation = label.partition(" — ")
    number = re.search(r" \(\d+\)$", explanation) if dash else None
    return name + (number.group(0) if number else "")

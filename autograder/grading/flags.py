"""Review flags: which test cells a suspicious construct puts in nbgrader's manual-grading queue.

A flag never changes a score: the test keeps its autograde points and is marked
needs-manual-grade, so the formgrader lists it and the report names it first. Flags come from
reading the learner's code (`autograder.grading.review`) and from what the grader saw at run time.
"""
from __future__ import annotations

from autograder import cell_meta
from autograder.grading.protocol import Outcome
from autograder.grading.review import Flag
from autograder.inside import audit


def runtime_flags(outcome: Outcome | None) -> list[Flag]:
    """Flags from the verification run itself: a runner that did not finish cleanly, or learner
    code that changed the grader's safeguards while its function ran."""
    verification = outcome.verification if outcome is not None else None
    if verification is None:
        return []
    flags = []
    if not verification.ended.timed_out and verification.ended.returncode not in (0, None):
        flags.append(Flag(-1, 0, f"the grader's run of the learner's functions exited with status "
                                 f"{verification.ended.returncode}", None))
    status = verification.reported()
    restored = [str(name)[:80] for name in _list(status, "restored")[:5]]
    if restored:
        flags.append(Flag(-1, 0, "the learner's cells changed the grader's engine (put back before its calls): "
                                 + ", ".join(restored), None))
    seen = audit.read_trace(verification.trace)
    if seen:  # frames taken or operations refused: the whole notebook is for a person to look at
        flags.append(Flag(-1, 0, "while the grader ran the learner's code: " + "; ".join(seen)[:600], None))
    for entry in _list(status, "inside")[:10]:
        if isinstance(entry, dict):
            names = ", ".join(str(n)[:80] for n in _list(entry, "names")[:5])
            flags.append(Flag(-1, 0, f"while the grader ran {str(entry.get('object'))[:60]}, the course's own code "
                                     f"ran {names}, which the exercise bans, for the learner's code", None))
    for entry in _list(status, "tampered")[:10]:
        if isinstance(entry, dict):
            flags.append(Flag(-1, 0, f"while the grader ran {str(entry.get('object'))[:60]}, the learner's code "
                                     f"{str(entry.get('what'))[:200]}", None))
    return flags


def _list(status: dict, key: str) -> list:
    value = status.get(key)
    return value if isinstance(value, list) else []


def _tests_of(nb, grade_id: str | None) -> set[str] | None:
    """Grade ids of the tests an answer cell's flag concerns; None: every test of the notebook."""
    if grade_id is None:
        return None
    for exercise in cell_meta.exercises(nb):
        if exercise.answer is not None and cell_meta.grade_id(nb.cells[exercise.answer]) == grade_id:
            return {cell_meta.grade_id(nb.cells[i]) for i in exercise.tests}
    return None


def describe(flag: Flag) -> str:
    where = f"cell {flag.cell + 1}, line {flag.line}: " if flag.cell >= 0 else ""
    return where + flag.reason


def attach(results: list, nb, flags: list[Flag]) -> None:
    """Add each flag's description to the `review` list of the test results it concerns."""
    for flag in flags:
        tests = _tests_of(nb, flag.grade_id)
        for result in results:
            if tests is None or result.grade_id in tests:
                result.review.append(describe(flag))

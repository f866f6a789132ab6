"""Integrity signals for the instructor: what two students' answers share that chance rarely does.

Three signals, per assignment and exercise, never a change of points (a person decides):
- *same code*: two learners' answers are the same code once names and layout are normalised
  (`answer_key.tokens`, compared as the answer key is);
- *same wrong output*: two learners' functions gave the same wrong output on the grader's fresh
  cases (`rejudge.output_fingerprint`; every submission of a run is checked with the same seeds),
  the fingerprint of a shared misconception that code similarity misses;
- *course's code*: an answer that is the course's reference kernel or the instructor's solution
  with names changed (the review flag `answer_key` raises, carried in the stored results).

What many learners share is no signal: the loop every lesson teaches, or the kernel flip half a
class gets wrong. A group of near-identical answers, or of one wrong output, as large as
`common_size` is reported as common (a count and the likely mistake), not as pairs.
"""
from __future__ import annotations

import ast
import csv
import io
import itertools
import math
import os
from collections import defaultdict
from dataclasses import dataclass

import nbformat

from autograder.cell_meta import BEGIN_SOLUTION, grade_id, is_answer_cell
from autograder.coursedir import CourseDir
from autograder.grading import answer_key

COURSE_CODE_MARK = "is the course's "  # how the review flag of `review._answer_key` reads
COMMON_SHARE = 0.1  # a group this share of the class (and at least COMMON_MIN learners) is common
COMMON_MIN = 3


@dataclass(frozen=True)
class Signal:
    assignment: str
    exercise: str  # the answer cell's grade id (same code) or the test cell's (same wrong output)
    kind: str  # "same code", "same wrong output", "course's code"
    students: tuple[str, ...]
    evidence: str


@dataclass(frozen=True)
class Common:
    assignment: str
    exercise: str
    kind: str
    count: int
    evidence: str


def common_size(learners: int) -> int:
    """How many learners sharing something make it common rather than a signal."""
    return max(COMMON_MIN, math.ceil(COMMON_SHARE * learners))


def answers(course: CourseDir, student: str, assignment: str, notebooks) -> dict[str, list[str]]:
    """Answer cell grade id -> the normalised tokens of its functions, from the autograded notebooks
    (an answer left as released, or no function, gives none)."""
    found = {}
    for name in notebooks:
        path = course.autograded(student, assignment, name)
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 -- an unreadable notebook has no answers to compare
            continue
        for cell in nb.cells:
            if not is_answer_cell(cell) or "NotImplementedError" in cell.source:
                continue
            tokens = _tokens(cell.source)
            if answer_key.MIN_TOKENS <= len(tokens) <= answer_key.MAX_TOKENS:  # longer: no time spent on it
                found[grade_id(cell)] = tokens
    return found


def _tokens(source: str) -> list[str]:
    """The normalised tokens of a cell's functions; none where the learner's text defeats the
    normaliser (nesting deep enough to exhaust the recursion limit): a report is never stopped."""
    try:
        return [t for fn in _functions(source) for t in answer_key.tokens(fn)]
    except (RecursionError, ValueError, MemoryError):
        return []


def _functions(source: str) -> list[ast.FunctionDef]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)]


def _groups(members: list[str], alike) -> list[list[str]]:
    """Members joined wherever `alike(a, b)` (union-find), groups of two or more."""
    parent = {m: m for m in members}

    def root(m):
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for a, b in itertools.combinations(members, 2):
        if root(a) != root(b) and alike(a, b):
            parent[root(a)] = root(b)
    groups = defaultdict(list)
    for m in members:
        groups[root(m)].append(m)
    return [sorted(g) for g in groups.values() if len(g) > 1]


def same_code(assignment: str, code: dict[str, dict[str, list[str]]], common: int):
    """(signals, commons) of near-identical answers, per answer cell. `code`: student -> answers()."""
    signals, commons = [], []
    exercises = sorted({ex for answers_ in code.values() for ex in answers_})
    for exercise in exercises:
        have = {s: a[exercise] for s, a in code.items() if exercise in a}

        for group in _groups(sorted(have), lambda a, b, have=have: _alike(have[a], have[b]) > 0):
            if len(group) >= common:
                commons.append(Common(assignment, exercise, "same code", len(group),
                                      "one form of the answer many wrote"))
                continue
            for a, b in itertools.combinations(group, 2):
                ratio = answer_key._similarity(have[a], have[b])
                signals.append(Signal(assignment, exercise, "same code", (a, b),
                                      f"{ratio:.0%} of normalised tokens alike ({len(have[a])} and {len(have[b])} tokens)"))
    return signals, commons


def same_wrong_output(assignment: str, results: dict[str, list[dict]], common: int):
    """(signals, commons) of identical wrong outputs on the run's shared cases, per test cell.
    `results`: student -> their stored results (dicts with grade_id, fingerprint, mistake)."""
    groups = defaultdict(list)
    said = {}
    for student, cells in results.items():
        for r in cells:
            if not r.get("passed") and r.get("fingerprint"):
                key = (r["grade_id"], r["fingerprint"])
                groups[key].append(student)
                said.setdefault(key, r.get("mistake") or "a wrong output")
    signals, commons = [], []
    for (exercise, fingerprint), students in sorted(groups.items()):
        students = sorted(set(students))
        if len(students) < 2:
            continue
        evidence = f"same wrong output {fingerprint[:8]} on the grader's cases; likely mistake: {said[exercise, fingerprint]}"
        if len(students) >= common:
            commons.append(Common(assignment, exercise, "same wrong output", len(students), said[exercise, fingerprint]))
        else:
            signals += [Signal(assignment, exercise, "same wrong output", pair, evidence)
                        for pair in itertools.combinations(students, 2)]
    return signals, commons


def course_code(assignment: str, results: dict[str, list[dict]], code: dict[str, dict[str, list[str]]],
                solutions: dict[str, list[str]]) -> list[Signal]:
    """Answers that are the course's own code: a reference kernel (the review flag, already in the
    results) or the instructor's solution (`solutions`: its normalised functions), names changed.
    The solution is a signal only, never a review flag: a short solution is also what an honest
    learner may write, so a person looks at the list, and no grade waits for it."""
    found = [Signal(assignment, r["grade_id"], "course's code", (student,), why)
             for student, cells in sorted(results.items()) for r in cells
             for why in r.get("review", []) if COURSE_CODE_MARK in why]
    for student, answers_ in sorted(code.items()):
        for exercise, mine in sorted(answers_.items()):
            for name, theirs in solutions.items():
                alike = _alike(mine, theirs)
                if alike:
                    found.append(Signal(assignment, exercise, "course's code", (student,),
                                        f"the instructor's solution {name} with names changed ({alike:.0%} alike)"))
    return found


def _alike(mine: list[str], theirs: list[str]) -> float:
    """Their similarity where two answers count as the same code (`answer_key`'s measure), else 0."""
    ratio = answer_key._similarity(mine, theirs) if answer_key._comparable(mine, theirs) else 0.0
    return ratio if ratio >= answer_key.SIMILAR else 0.0


def solution_functions(course: CourseDir, assignment: str) -> dict[str, list[str]]:
    """The instructor's solution functions of `assignment` ("source/A/NB.ipynb: name"), normalised."""
    found = {}
    for path in sorted(course.source(assignment).glob("*.ipynb")):
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 -- an unreadable source has no solution to compare
            continue
        for cell in nb.cells:
            if is_answer_cell(cell) and BEGIN_SOLUTION in cell.source:
                found.update(answer_key.functions_of(cell.source, f"{assignment}/{path.stem}"))
    return found


def signals(course: CourseDir, stored: list[dict]) -> tuple[list[Signal], list[Common]]:
    """Every signal and common group of the stored submissions, assignment by assignment."""
    found, commons = [], []
    by_assignment = defaultdict(list)
    for sub in stored:
        by_assignment[sub["assignment"]].append(sub)
    for assignment, subs in sorted(by_assignment.items()):
        common = common_size(len(subs))
        results = {s["student"]: [r for info in s.get("notebooks", {}).values() for r in info.get("results", [])]
                   for s in subs}
        code = {s["student"]: answers(course, s["student"], assignment, s.get("notebooks", {})) for s in subs}
        for part in (same_code(assignment, code, common), same_wrong_output(assignment, results, common)):
            found += part[0]
            commons += part[1]
        found += course_code(assignment, results, code, solution_functions(course, assignment))
    return found, commons


def write_csv(course: CourseDir, found: list[Signal]) -> str:
    """`DIR/integrity.csv`: one row per signal."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["assignment", "exercise", "signal", "students", "evidence"])
    for s in found:
        writer.writerow([s.assignment, s.exercise, s.kind, " ".join(s.students), s.evidence])
    path = course.root / "integrity.csv"
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(out.getvalue())
    os.replace(tmp, path)
    return str(path)

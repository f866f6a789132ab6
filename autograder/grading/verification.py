"""Points only for work the grader saw done: the verification plan, and judging what came back.

After a submission's notebook has run, the grader calls the learner's functions itself, in a
fresh sandbox that runs only the learner's cells (`autograder.inside.verify_run`), on cases drawn from
seeds chosen here, now (once per run, the same for every submission of it), and sent nowhere but
that sandbox. The outputs come back as records;
this trusted process recomputes torch's answers for the same seeds and judges each output.
Nothing the notebook run wrote (records, status, the executed notebook) can earn a point.
"""
from __future__ import annotations

import ast
import hashlib
import re
import secrets
from dataclasses import dataclass, field

from nbformat import NotebookNode

from autograder import cell_meta
from autograder.grading.review import learner_cells
from convlab.checks import registry
from convlab.checks.record import answer_check, question_of

#: Drawn once per grading process: every submission of a run is checked on the same fresh cases,
#: which no notebook holds, so wrong outputs can be compared across the class (`integrity`).
_RUN_SECRET = secrets.token_bytes(16)


def run_seed(check: str, cell_id: str, index: int) -> int:
    """The seed of the `index`-th call of a test cell in this run: fresh for every run, the same for
    every submission of it, and its own for each call of a cell (a visible and a hidden call of one
    check draw different cases)."""
    digest = hashlib.blake2b(f"{check}|{cell_id}|{index}".encode(), key=_RUN_SECRET, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2  # 62 bits, as the checks take

_UNKNOWN = object()


@dataclass(frozen=True)
class Call:
    """One check call written in an instructor's test cell: `check.corr2d(corr2d, seed=1101, cases=20)`;
    a lesson's question, `check.output_shape(output_shape())` (check `answer:lesson01.output_shape`,
    no expected expression: the question computes its answer); or `answer("name", value_expression,
    expected_expression)` (check `answer:name`)."""

    check: str
    argument: str  # the learner's object (a name), or the answer's value expression
    seed: object = 0
    cases: object = None
    expected: str | None = None  # an answer's expected expression


def _literal(node, default):
    if node is None:
        return default
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return _UNKNOWN
    return value if value is None or type(value) is int else _UNKNOWN


def _check_modules(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Names bound to `convlab.checks.lessonNN` modules, and names bound to `answer`, in a test cell."""
    modules: dict[str, str] = {}
    answers: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "convlab.checks":
            for alias in node.names:
                if re.fullmatch(r"lesson\d\d", alias.name):
                    modules[alias.asname or alias.name] = alias.name
                elif alias.name == "answer":
                    answers.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if re.fullmatch(r"convlab\.checks\.lesson\d\d", alias.name) and alias.asname:
                    modules[alias.asname] = alias.name.rsplit(".", 1)[1]
    return modules, answers


def check_calls(source: str) -> list[Call]:
    """Each top-level convlab check call of a test cell, read from the instructor's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    modules, answers = _check_modules(tree)
    calls = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else None
        if call is None or not call.args:
            continue
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules \
                and registry.find_question(f"{modules[func.value.id]}.{func.attr}") is not None:
            calls.append(Call(answer_check(f"{modules[func.value.id]}.{func.attr}"), ast.unparse(call.args[0])))
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
            keywords = {k.arg: k.value for k in call.keywords}
            seed, cases = _literal(keywords.get("seed"), 0), _literal(keywords.get("cases"), None)
            if isinstance(call.args[0], ast.Name) and seed is not _UNKNOWN and cases is not _UNKNOWN:
                calls.append(Call(f"{modules[func.value.id]}.{func.attr}", call.args[0].id, seed, cases))
        elif isinstance(func, ast.Name) and func.id in answers and len(call.args) >= 3:
            question = call.args[0]
            if isinstance(question, ast.Constant) and isinstance(question.value, str):
                calls.append(Call(answer_check(question.value[:200]), ast.unparse(call.args[1]),
                                  expected=ast.unparse(call.args[2])))
    return calls


@dataclass
class CallPlan:
    """What the verification sandbox runs: cells, then calls with fresh seeds, then answers."""

    cells: list[dict] = field(default_factory=list)     # {"index", "source", "whole"}
    calls: list[dict] = field(default_factory=list)     # {"check", "object", "seed", "cases", "cell_id"}
    answers: list[dict] = field(default_factory=list)   # {"question", "expression", "cell_id"}

    seconds: float = 60.0  # what one cell, one check call or one answer may take

    def as_job(self) -> dict:
        return {"cells": self.cells, "calls": self.calls, "answers": self.answers, "seconds": self.seconds}

    def calls_of(self, cell_id: str) -> list[dict]:
        return [c for c in self.calls if c["cell_id"] == cell_id]

    def answers_of(self, cell_id: str) -> list[dict]:
        return [a for a in self.answers if a["cell_id"] == cell_id]


def plan_calls(restored: NotebookNode, source: NotebookNode) -> CallPlan:
    """The verification plan of one restored submission (see the module docstring)."""
    result = CallPlan()
    written = set(learner_cells(restored, source))
    for index, cell in enumerate(restored.cells):
        if cell.cell_type != "code" or cell_meta.is_test_cell(cell) or not cell.source.strip():
            continue
        result.cells.append({"index": index, "source": cell.source, "whole": index in written})
    for cell in restored.cells:
        if not cell_meta.is_test_cell(cell):
            continue
        cell_id = cell_meta.grade_id(cell)
        for nth, call in enumerate(check_calls(cell.source)):
            if question_of(call.check) is not None:
                result.answers.append({"question": question_of(call.check), "expression": call.argument,
                                       "cell_id": cell_id})
            else:
                result.calls.append({"check": call.check, "object": call.argument, "cases": call.cases,
                                     "seed": run_seed(call.check, cell_id, nth), "cell_id": cell_id})
    return result


@dataclass
class CellVerdict:
    """What the grader's own calls say of one test cell."""

    passed: bool
    message: str  # the first failing judgement's message ("" when a call left none)
    what: str | None = None  # that judgement's likely mistake or problem kind
    fingerprint: str | None = None  # that judgement's wrong output (`rejudge.output_fingerprint`)
    misses: list[str] = field(default_factory=list)  # each failing call's message, once, in order
    reviews: list[str] = field(default_factory=list)  # review reasons its calls' judgements carry


def cell_verdict(plan: CallPlan, cell_id: str, verdicts: list) -> CellVerdict:
    """Every planned call of the test cell needs a passing judgement of its own (`records.Judgement`):
    a check call's has its (check, seed), an answer's its name and no seed."""
    keys = [(call["check"], call["seed"]) for call in plan.calls_of(cell_id)]
    keys += [(answer_check(item["question"]), None) for item in plan.answers_of(cell_id)]
    result, reviews, missed = CellVerdict(True, "passed"), set(), []
    for key in keys:
        mine = [v for v in verdicts if (v.check, v.seed) == key]
        reviews |= {v.review for v in mine if v.review}
        failed = [v for v in mine if not v.passed]
        if result.passed and failed:
            result = CellVerdict(False, failed[0].message, failed[0].what, failed[0].fingerprint)
        elif result.passed and not mine:
            result = CellVerdict(False, "")
        if failed and failed[0].message not in missed:
            missed.append(failed[0].message)
    if missed and result.message:  # every call the cell missed, not only its first: a learner fixes them all at
        result.message = "\n".join(missed)  # once (a call that left no result keeps its reason, said by score)
        result.misses = missed
    result.reviews = sorted(reviews)
    return result

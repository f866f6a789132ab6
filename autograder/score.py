"""Scoring one executed notebook in the trusted parent.

A test cell earns its points iff (a) it ran and produced no error output in the kernel (stderr
streams never count) and (b) the check records it made exist and every one of them passes when
`convlab.checks.verify_records` recomputes the references here, outside the learner's kernel.
Anything the learner's code does to its own kernel can at most lose points.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass

import nbformat
from nbformat import NotebookNode

from autograder.restore import test_cells

MAX_MESSAGE = 600


@dataclass
class CellResult:
    """Outcome of one autograder-test cell."""

    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str  # what the learner reads: short, never the test's source
    reason: str = ""  # for the instructor: passed, failed, error, timeout, kernel_died, ...

    def as_dict(self) -> dict:
        return asdict(self)


def _short(text: str) -> str:
    text = " ".join(str(text).split()) if "\n" not in str(text) else str(text).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def verify(records: dict[str, bytes], answers: dict | None = None) -> dict[str, list]:
    """Verdicts per cell id for the record files a sandbox returned (written to a fresh dir)."""
    from convlab.checks import verify_records

    with tempfile.TemporaryDirectory(prefix="convlab-verify-") as tmp:
        for name, data in records.items():
            with open(os.path.join(tmp, os.path.basename(name)), "wb") as f:
                f.write(data)
        return verify_records(tmp, answers=answers)


def trusted_answers(nb: NotebookNode) -> dict:
    """{question: expected} for every `answer(question, value, expected)` in the instructor's test
    cells, evaluated here so a patched kernel cannot choose what counts as right.

    An expected expression that needs the notebook's own variables cannot be evaluated outside
    the kernel; its question keeps the kernel's value (tests/test_grade_scoring.py checks that
    every lesson's expressions evaluate here).
    """
    from convlab.checks.record import trusted_expected

    answers = {}
    for _, (index, _) in test_cells(nb).items():
        for question, expression in answer_expressions(nb.cells[index].source):
            try:
                answers[question] = trusted_expected(expression)
            except Exception:
                continue
    return answers


def answer_expressions(source: str) -> list[tuple[str, str]]:
    """(question, expected expression source) of each `answer(...)` call in a test cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and len(node.args) >= 3
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "answer"
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, ast.unparse(node.args[2])))
    return found


_UNKNOWN = object()


def _literal(node, default):
    if node is None:
        return default
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return _UNKNOWN
    return value if value is None or type(value) is int else _UNKNOWN


def expected_calls(source: str) -> list[tuple[str, object, object]]:
    """(check, seed, cases) of each top-level convlab check call written in a test cell.

    Read from the instructor's source, so a kernel that swaps a check for an easier call
    (other seed, fewer cases, another check) is caught: each of these calls must have a
    passing verdict of its own.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
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
    calls = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) else None
        if call is None:
            continue
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules:
            keywords = {k.arg: k.value for k in call.keywords}
            seed, cases = _literal(keywords.get("seed"), 0), _literal(keywords.get("cases"), None)
            if seed is not _UNKNOWN and cases is not _UNKNOWN:
                calls.append((f"{modules[func.value.id]}.{func.attr}", seed, cases))
        elif isinstance(func, ast.Name) and func.id in answers and call.args:
            question = call.args[0]
            if isinstance(question, ast.Constant) and isinstance(question.value, str):
                calls.append((f"answer:{question.value[:200]}", None, None))
    return calls


def _unmatched_call(source: str, verdicts: list) -> tuple[str, object, object] | None:
    """The first check call of `source` that no passing verdict answers, if any."""
    for check, seed, cases in expected_calls(source):
        if not any(v.passed and v.check == check and (check.startswith("answer:")
                   or (v.seed == seed and v.cases == cases)) for v in verdicts):
            return check, seed, cases
    return None


def all_zero(nb: NotebookNode, reason: str, message: str) -> list[CellResult]:
    """Every test cell scored 0 for one submission-wide reason."""
    return [CellResult(gid, 0.0, pts, False, _short(message), reason)
            for gid, (_, pts) in test_cells(nb).items()]


def _error_message(cell: NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
    return None


def score(restored: NotebookNode, outcome: dict,
          answers: dict | None = None) -> tuple[list[CellResult], NotebookNode, dict]:
    """Per-test-cell results, the executed notebook (instructor sources, learner's outputs) and
    the run's status, from the plain data a sandbox returned (see `autograder.worker.run_job`).

    `answers` is `trusted_answers` of the instructor's notebook, which a caller grading many
    submissions computes once; without it, it is computed from `restored`'s test cells."""
    status = {"status": "error", "message": "the runner wrote no status", "executed": []}
    if outcome.get("status"):
        try:
            loaded = json.loads(outcome["status"])
            if isinstance(loaded, dict):
                status.update(loaded)
        except ValueError:
            pass
    if outcome.get("timed_out"):
        status.update(status="timeout", message="time limit reached; the run was stopped")
    if outcome.get("oom_killed") and status["status"] in ("kernel_died", "error", "ok"):
        status.update(status="memory", message="memory limit reached: the kernel was killed")
    executed = None
    if outcome.get("executed"):
        try:
            executed = nbformat.reads(outcome["executed"], as_version=4)
        except Exception:
            executed = None
    if executed is None:
        return all_zero(restored, status["status"] if status["status"] != "ok" else "error",
                        status.get("message") or "the notebook did not run"), restored, status

    # Outputs come from the run, sources and metadata from the trusted restored notebook.
    graded = copy.deepcopy(restored)
    same_shape = len(executed.cells) == len(graded.cells)
    for index, cell in enumerate(graded.cells):
        if cell.cell_type != "code" or not same_shape:
            continue
        ran = executed.cells[index]
        if ran.get("source") == cell.source and isinstance(ran.get("outputs"), list):
            cell.outputs = ran.outputs
            cell.execution_count = ran.get("execution_count")
    ran_cells = {int(i) for i in status.get("executed", []) if isinstance(i, int)}
    # Cells whose execute_reply said error: caught even when the kernel hid the traceback.
    errored = {int(i) for i in status.get("errored", []) if isinstance(i, int)}

    try:
        verdicts = verify(outcome.get("records", {}),
                          answers if answers is not None else trusted_answers(graded))
        verify_error = None
    except Exception as exc:  # malformed records: the learner's kernel wrote them
        verdicts, verify_error = {}, f"{type(exc).__name__}: {exc}"

    results = []
    failed_cell = status.get("failed_cell")
    for gid, (index, pts) in test_cells(graded).items():
        cell = graded.cells[index]
        if index not in ran_cells or not same_shape:
            if status["status"] in ("timeout", "kernel_died", "memory") and (
                    failed_cell is None or index >= failed_cell):
                reason, message = status["status"], status.get("message", "")
                if failed_cell is not None and index > failed_cell:
                    message = f"not run: an earlier cell stopped the notebook ({message})"
            else:
                reason, message = "not_run", status.get("message") or "this test cell did not run"
            results.append(CellResult(gid, 0.0, pts, False, _short(message), reason))
            continue
        cell_verdicts = verdicts.get(gid, [])
        failing = [v for v in cell_verdicts if not v.passed]
        error = _error_message(cell)
        if error is None and index in errored:
            error = "the test raised an error (its traceback was hidden)"
        if failing:
            results.append(CellResult(gid, 0.0, pts, False, _short(failing[0].message), "failed"))
        elif error is not None:
            results.append(CellResult(gid, 0.0, pts, False, _short(error), "error"))
        elif verify_error is not None:
            results.append(CellResult(gid, 0.0, pts, False, "the check results could not be read",
                                      "invalid_records"))
        elif not cell_verdicts:
            results.append(CellResult(gid, 0.0, pts, False,
                                      "no check result was recorded for this test", "no_record"))
        elif (missing := _unmatched_call(cell.source, cell_verdicts)) is not None:
            results.append(CellResult(gid, 0.0, pts, False,
                                      f"the test's check {missing[0].split(':')[0]} did not run as written",
                                      "check_bypassed"))
        else:
            results.append(CellResult(gid, pts, pts, True, "passed", "passed"))
    return results, graded, status

"""`convlab check`: run one notebook as the grader would and show the points per exercise.

The notebook runs in a fresh kernel (nbclient), errors allowed and a timeout per cell, with its
hidden tests removed (a learner's notebook has none; an instructor's solution notebook keeps its
solutions, so it should score full marks on the visible tests). Test cells are scored by
nbgrader's own rule (`nbgrader.utils.determine_grade`) after dropping stderr, as the course's
nbgrader configuration does. A test cell left with nothing but imports once its hidden tests are
gone would pass whatever the answer, so its points are shown apart, as decided by hidden tests.
"""
from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder import notebook
from autograder.kernel_waits import SteadyNotebookClient

FEEDBACK_LINES = 4  # a learner should read the verdict without scrolling
FEEDBACK_CHARS = 400


class NotebookUnreadable(ValueError):
    """The file is not a notebook nbformat can read."""


@dataclass
class ExerciseResult:
    name: str
    earned: float
    possible: float  # points of the test cells that test something visibly
    feedback: str  # empty when every visible test passed
    hidden: float = 0.0  # points of test cells that are hidden tests only: the grader decides


def execute(nb: NotebookNode, cwd: Path, timeout: float) -> NotebookNode:
    """Run `nb` in place in a fresh kernel started in `cwd`; errors become outputs, not exceptions."""
    timeout_error = {
        "output_type": "error",
        "ename": "CellTimeoutError",
        "evalue": f"the cell ran longer than {timeout:g} s and was interrupted",
        "traceback": [],
    }

    def mark_timeout(cell, cell_index, execute_reply):
        # The interrupt leaves a KeyboardInterrupt in the outputs; say what happened instead.
        if execute_reply and execute_reply["content"].get("ename") == "CellTimeoutError":
            cell.outputs = [o for o in cell.outputs if o.output_type != "error"]
            cell.outputs.append(nbformat.from_dict(timeout_error))

    client = SteadyNotebookClient(
        nb,
        timeout=timeout,
        kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
        allow_errors=True,
        interrupt_on_timeout=True,
        # As nbgrader's Execute: no history file; and no kernel start-up chatter on the terminal.
        extra_arguments=["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"],
        error_on_timeout={k: v for k, v in timeout_error.items() if k != "output_type"},
        on_cell_executed=mark_timeout,
        resources={"metadata": {"path": str(cwd)}},
    )
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"  # what nbgrader sets while autograding
    try:
        client.execute()
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    return nb


def cell_score(cell: NotebookNode) -> float:
    """Points a test cell earned, by nbgrader's rule, with stderr output ignored."""
    from nbgrader.utils import determine_grade

    cell = copy.deepcopy(cell)
    cell.outputs = [
        output for output in cell.get("outputs", [])
        if not (output.output_type == "stream" and output.get("name") == "stderr")
    ]
    earned, _ = determine_grade(cell)
    return float(earned or 0.0)


def error_message(cell: NotebookNode) -> str:
    """The cell's error as a short line or two: `CheckFailed: ...` (no traceback), else ''."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotImplementedError" and not output.evalue:
                return "not answered yet (NotImplementedError)"
            text = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
            return shorten(text)
    return ""


def shorten(text: str) -> str:
    lines = text.strip().splitlines()
    short = "\n".join(lines[:FEEDBACK_LINES])
    if len(short) > FEEDBACK_CHARS:
        short = short[:FEEDBACK_CHARS].rstrip()
    return short + (" …" if short != text.strip() else "")


def tests_nothing(source: str) -> bool:
    """True when a cell only imports (and comments): what a hidden-tests-only cell leaves behind."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    inert = (ast.Import, ast.ImportFrom, ast.Pass)
    return all(
        isinstance(node, inert) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in body
    )


def score(nb: NotebookNode) -> list[ExerciseResult]:
    """Points and feedback per exercise of an executed notebook."""
    results = []
    for exercise in notebook.exercises(nb):
        earned, possible, hidden, feedback = 0.0, 0.0, 0.0, ""
        for index in exercise.tests:
            cell = nb.cells[index]
            if tests_nothing(cell.source):
                hidden += notebook.points(cell)
                continue
            possible += notebook.points(cell)
            earned += cell_score(cell)
            feedback = feedback or error_message(cell)
        if exercise.answer is not None and feedback:
            # The answer cell's own error (NotImplementedError when left blank) is the root cause.
            cause = error_message(nb.cells[exercise.answer])
            feedback = f"answer cell: {cause}" if cause else feedback
        results.append(ExerciseResult(exercise.name, earned, possible, feedback, hidden))
    return results


def run_checks(path: Path, timeout: float = 300) -> list[ExerciseResult]:
    """Execute the notebook at `path` (hidden tests removed) and score it; the file is not changed."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:  # invalid JSON, or JSON that is not a notebook
        raise NotebookUnreadable(f"not a readable notebook: {str(path)!r} ({error})") from error
    try:
        notebook.strip_hidden_tests(nb)
    except ValueError as error:  # unbalanced hidden-test markers
        raise NotebookUnreadable(f"{str(path)!r}: {error}") from error
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    execute(nb, Path(path).resolve().parent, timeout)
    return score(nb)


def _points(value: float) -> str:
    return f"{value:g}"


def report(results: list[ExerciseResult], title: str) -> None:
    """Print the per-exercise table and the total (rich)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # plain text: feedback like "[2, 3]" is not rich markup

    table = Table(title=title, show_footer=True)
    table.add_column("exercise", footer="total")
    earned = sum(result.earned for result in results)
    possible = sum(result.possible for result in results)
    table.add_column("points", justify="right", footer=f"{_points(earned)}/{_points(possible)}")
    hidden = sum(result.hidden for result in results)
    table.add_column("hidden tests", justify="right", footer=_points(hidden) if hidden else "")
    table.add_column("feedback")
    for result in results:
        verdict = result.feedback or ("passed" if result.earned == result.possible else "")
        table.add_row(Text(result.name), f"{_points(result.earned)}/{_points(result.possible)}",
                      _points(result.hidden) if result.hidden else "", Text(verdict))
    Console(width=max(Console().width, 100)).print(table)


def check_notebook(path: Path, timeout: float = 300) -> list[ExerciseResult]:
    """`convlab check NOTEBOOK`: run, score, print; the caller exits 0 whatever the score."""
    results = run_checks(Path(path), timeout)
    report(results, title=f"{Path(path).name} (visible tests only)")
    return results

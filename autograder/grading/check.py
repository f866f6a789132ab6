"""`convlab check`: grade one notebook exactly as `convlab grade` would and show the points per exercise.

The same stages (`autograder.grading.grade`): the notebook run, the grader's own calls of the learner's
functions on fresh seeds, the trusted score; with the notebook as its own source, so hidden tests
are left out (a learner's notebook has none; an instructor's solution notebook keeps its solutions,
so it should score full marks on the visible tests). Where no sandbox can run (a laptop without
Bubblewrap), it runs without one and says so. A test cell left with no check once its hidden tests
are gone earns its points from hidden tests only, so they are shown apart (with its error, if any).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from rich.console import Console
from rich.table import Table
from rich.text import Text  # plain text: feedback like "[2, 3]" is not rich markup

from autograder import cell_meta, sandbox
from autograder.grading import notebook_job, restore
from autograder.grading.protocol import Reason, Settings, Verdict
from autograder.grading.submissions import files_beside
from autograder.grading.worker import run_job
from convlab import i18n
from convlab.i18n import _
from convlab.learner import learner_id

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


def error_message(cell: NotebookNode) -> str:
    """The cell's error as a short line or two: `CheckFailed: ...` (no traceback), else ''."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename == "NotImplementedError" and not output.evalue:
                return _("not answered yet (NotImplementedError)")
            text = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
            return shorten(text)
    return ""


def shorten(text: str) -> str:
    lines = text.strip().splitlines()
    short = "\n".join(lines[:FEEDBACK_LINES])
    if len(short) > FEEDBACK_CHARS:
        short = short[:FEEDBACK_CHARS].rstrip()
    return short + (" …" if short != text.strip() else "")


def by_exercise(nb: NotebookNode, verdict: Verdict) -> list[ExerciseResult]:
    """Points and feedback per exercise from the grader's verdict on `nb` (hidden tests removed)."""
    results = {r.grade_id: r for r in verdict.results}
    graded = verdict.notebook
    exercises = []
    for exercise in cell_meta.exercises(nb):
        earned, possible, hidden, misses = 0.0, 0.0, 0.0, []
        for index in exercise.tests:
            result = results[cell_meta.grade_id(nb.cells[index])]
            if result.reason == Reason.NO_CHECK:  # its checks are all hidden: only the grader's run decides
                hidden += result.max_points
                misses.append(error_message(graded.cells[index]))
                continue
            possible += result.max_points
            earned += result.points
            misses += [] if result.passed else [shorten(miss) for miss in result.misses or [result.message]]
        feedback = "\n".join(dict.fromkeys(miss for miss in misses if miss))  # every miss, each once
        if exercise.answer is not None and feedback:
            # The answer cell's own error (NotImplementedError when left blank) is the root cause.
            cause = error_message(graded.cells[exercise.answer])
            feedback = _("answer cell: {cause}").format(cause=cause) if cause else feedback
        exercises.append(ExerciseResult(exercise.name, earned, possible, feedback, hidden))
    return exercises


def _readable(path: Path) -> NotebookNode:
    """The notebook at `path` without hidden tests or outputs, as a learner's release has it."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:  # invalid JSON, or JSON that is not a notebook
        raise NotebookUnreadable(f"not a readable notebook: {str(path)!r} ({error})") from error
    try:
        cell_meta.strip_hidden_tests(nb)
    except ValueError as error:  # unbalanced hidden-test markers
        raise NotebookUnreadable(f"{str(path)!r}: {error}") from error
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def run_checks(path: Path, timeout: float = Settings.timeout) -> tuple[list[ExerciseResult], sandbox.Backend]:
    """Grade the notebook at `path` as `convlab grade` does, with the notebook as its own source
    (so without hidden tests); in the safest sandbox that runs here, else as JupyterLab runs it.
    The file is not changed. Returns the per-exercise results and the backend that ran it."""
    nb = _readable(Path(path))
    backend = sandbox.safest_or_none()
    settings = Settings(workers=1, timeout=timeout, sandbox=backend.name)
    source = notebook_job.Source.of(nb)
    planned, job = notebook_job.planned_job(("check", Path(path).stem), restore.restore(nb, nb), source,
                                     files_beside(str(Path(path).resolve().parent)), settings, learner_id())
    verdict = notebook_job.score_notebook(planned, run_job(job, together=True), None, settings)
    return by_exercise(nb, verdict), backend


def _points(value: float) -> str:
    return f"{value:g}"


def report(results: list[ExerciseResult], title: str) -> None:
    """Print the per-exercise table and the total (rich)."""
    table = Table(title=title, show_footer=True)
    table.add_column(_("exercise"), footer=_("total"))
    earned = sum(result.earned for result in results)
    possible = sum(result.possible for result in results)
    table.add_column(_("points"), justify="right", footer=f"{_points(earned)}/{_points(possible)}")
    hidden = sum(result.hidden for result in results)
    if hidden:  # a learner's copy has none: the column would only ever be empty there
        table.add_column(_("hidden tests"), justify="right", footer=_points(hidden))
    table.add_column(_("feedback"))
    for result in results:
        verdict = result.feedback or (_("passed") if result.earned == result.possible else "")
        hidden_points = [_points(result.hidden) if result.hidden else ""] if hidden else []
        table.add_row(Text(result.name), f"{_points(result.earned)}/{_points(result.possible)}", *hidden_points,
                      Text(verdict))
    Console(width=max(Console().width, 100)).print(table)


def check_notebook(path: Path, timeout: float = Settings.timeout) -> list[ExerciseResult]:
    """`convlab check NOTEBOOK`: run, score, print; the caller exits 0 whatever the score."""
    with i18n.speaking(i18n.language_of(Path(path))):  # the learner's language, here and in the kernel
        results, backend = run_checks(Path(path), timeout)
        print_results(results, backend, Path(path))
    return results


def print_results(results: list[ExerciseResult], backend: sandbox.Backend, path: Path) -> None:
    if not backend.isolates:
        Console(stderr=True).print(Text(_("no grading sandbox here ({why}): the notebook ran with your rights, as "
                                          "in JupyterLab").format(why=sandbox.why_none())))
    report(results, title=_("{name} (visible tests only)").format(name=path.name))

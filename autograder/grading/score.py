"""Scoring one executed notebook in the trusted parent.

A test cell earns its points iff (a) it ran and produced no error output in the notebook's kernel
(which runs it without its hidden tests; stderr streams never count) and (b) every check call it makes passed when the grader made that
call itself (`autograder.grading.verification`): on fresh seeds, in a sandbox running only the learner's
cells, each output judged here by `autograder.grading.rejudge.verify_records`. Anything the learner's code
does to its own kernel, or writes, can at most lose points.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import tempfile

import nbformat
from nbformat import NotebookNode

from autograder import cell_meta
from autograder.grading import learner_text
from autograder.grading.protocol import CellResult, NotebookRun, Outcome, Reason, Verdict, VerificationRun
from autograder.grading.rejudge import trusted_expected, trusted_namespace, verify_records
from autograder.grading.restore import test_cells
from autograder.grading.verification import CallPlan, cell_verdict, check_calls
from convlab.checks import registry
from convlab.checks.record import question_of
from convlab.i18n import N_, _

MAX_MESSAGE = 600
#: What each run status means, as the grader words it: nothing a sandbox wrote is shown as is.
STATUS_MESSAGES = {
    "ok": "",
    "timeout": N_("the time limit was reached while running this cell"),
    "kernel_died": N_("the Python kernel died (exit, crash or memory limit) while running this cell"),
    "memory": N_("memory limit reached: the kernel was killed"),
    "disk": N_("the notebook wrote more to disk than the grader allows; the run was stopped"),
    "error": N_("the notebook could not be run to the end"),
}
QUOTED_HIDDEN = "the learner's output or error quoted hidden test text (removed from the feedback)"


def _short(text: str) -> str:
    text = " ".join(str(text).split()) if "\n" not in str(text) else str(text).strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


#: Seconds the trusted side spends judging one notebook's records at most (normally well under 10).
VERIFY_SECONDS = 60.0


def verify(records: dict[str, bytes], answers: dict | None = None, plan: CallPlan | None = None) -> dict[str, list]:
    """Verdicts per cell id for the record files a sandbox returned (written to a fresh dir);
    with a `plan`, only records of the calls it planned are judged, within VERIFY_SECONDS."""
    planned = None if plan is None else {(c["check"], c["seed"], c["cases"]) for c in plan.calls}
    with tempfile.TemporaryDirectory(prefix="convlab-verify-") as tmp:
        for name, data in records.items():
            with open(os.path.join(tmp, os.path.basename(name)), "wb") as f:
                f.write(data)
        return verify_records(tmp, answers=answers, planned=planned,
                              seconds=None if plan is None else VERIFY_SECONDS)


def trusted_answers(nb: NotebookNode) -> dict:
    """{question: expected} for every `answer(question, value, expected)` in the instructor's test
    cells, evaluated here so a patched kernel cannot choose what counts as right; {question:
    Question} for every lesson question a test cell calls (`convlab.checks.questions`), the
    grader's own import of it.

    An expected expression that needs the notebook's own variables cannot be evaluated outside
    the kernel; its question keeps the kernel's value (tests/grading/test_grade_scoring.py checks that
    every lesson's expressions evaluate here).
    """
    answers = {}
    for index, _points in test_cells(nb).values():
        calls = [c for c in check_calls(nb.cells[index].source) if question_of(c.check) is not None]
        for call in calls:
            if call.expected is None:  # a lesson's Question: the grader's own import of it judges
                answers[question_of(call.check)] = registry.find_question(question_of(call.check))
        calls = [c for c in calls if c.expected is not None]
        if not calls:
            continue
        namespace = trusted_namespace()
        _run_assignments(nb.cells[index].source, namespace)
        for call in calls:
            try:
                answers[question_of(call.check)] = trusted_expected(call.expected, namespace)
            except Exception:
                continue
    return answers


def _run_assignments(source: str, namespace: dict) -> None:
    """The test cell's own assignments (`expected = ...`), which an expected expression may name; an
    assignment that needs the learner's names fails and is skipped."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            try:
                exec(compile(ast.Module([node], []), "<test cell>", "exec"), namespace)  # noqa: S102 - instructor source
            except Exception:
                continue


def all_zero(nb: NotebookNode, reason: Reason, message: str) -> list[CellResult]:
    """Every test cell scored 0 for one submission-wide reason."""
    return [CellResult(gid, 0.0, pts, False, _short(message), reason)
            for gid, (_, pts) in test_cells(nb).items()]


def _error_message(cell: NotebookNode, hidden: list[str]) -> tuple[str | None, bool]:
    """(`Type: one clean line` of the test cell's error as the kernel reported it, or None;
    whether hidden test text was removed from it)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            evalue, removed = learner_text.clean(output.get("evalue", ""), hidden)
            return f"{learner_text.exception_name(output.get('ename'))}: {evalue}".rstrip(": "), removed
    return None, False


def _no_result(plan: CallPlan, cell_id: str, verification: VerificationRun, hidden: list[str]) -> str:
    """Why a planned call left no verdict, as far as the grader can tell without trusting the sandbox."""
    if verification.ended.timed_out:
        return _("the grader's run of your functions reached the time limit")
    status = verification.reported()
    errors = [e for e in status.get("errors", []) if isinstance(e, dict)][:1]
    cell = errors[0].get("cell") if errors else None
    cause = (_(" (cell {cell} raised {error})").format(cell=cell + 1, error=learner_text.clean(
        errors[0].get("error", ""), hidden)[0]) if errors and type(cell) is int else "")
    missing = status.get("missing") if isinstance(status.get("missing"), list) else []
    tampered = status.get("tampered") if isinstance(status.get("tampered"), list) else []
    for call in plan.calls_of(cell_id):
        if any(isinstance(t, dict) and t.get("object") == call["object"] for t in tampered):
            return _("your code changed the grader's safeguards while the grader ran {name}: no points").format(
                name=call["object"])
    for call in plan.calls_of(cell_id):
        if call["object"] in missing:
            return _("the grader found no {name} after running your cells{cause}").format(name=call["object"],
                                                                                           cause=cause)
    return _("no result came back when the grader called your function{cause}").format(cause=cause)


def _as_run(cell: NotebookNode) -> str:
    """The cell's source as the notebook run had it: without hidden tests (`notebook_job._without_hidden_tests`)."""
    if not cell_meta.has_hidden_tests(cell):
        return cell.source
    try:
        return cell_meta.remove_region(cell.source, cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN)
    except ValueError:
        return cell.source


def run_status(run: NotebookRun) -> dict:
    """The notebook run's status as the grader states it: the kind (one of STATUS_MESSAGES) and
    the cell lists from the runner's file, with the grader's own message for the kind."""
    status = {"status": "error", "executed": [], "errored": [], "failed_cell": None}
    try:
        loaded = json.loads(run.status or "")
    except ValueError:
        loaded = None
    if isinstance(loaded, dict):
        if loaded.get("status") in STATUS_MESSAGES:
            status["status"] = loaded["status"]
        for key in ("executed", "errored"):
            if isinstance(loaded.get(key), list):
                status[key] = [i for i in loaded[key][:100_000] if type(i) is int]
        if type(loaded.get("failed_cell")) is int:
            status["failed_cell"] = loaded["failed_cell"]
    if run.ended.timed_out:
        status["status"] = "timeout"
    if run.ended.disk_exceeded:
        status["status"] = "disk"
    if run.ended.oom_killed and status["status"] in ("kernel_died", "error", "ok"):
        status["status"] = "memory"
    wrote_none = not isinstance(loaded, dict) and status["status"] == "error"
    said = STATUS_MESSAGES[status["status"]]  # marked N_ above; translated here
    status["message"] = _("the runner wrote no status") if wrote_none else _(said)
    return status


def _executed(run: NotebookRun) -> NotebookNode | None:
    try:
        return nbformat.reads(run.executed, as_version=4) if run.executed else None
    except Exception:
        return None


def _with_outputs(restored: NotebookNode, executed: NotebookNode) -> NotebookNode | None:
    """Outputs from the run, sources and metadata from the trusted restored notebook; None when
    the run's notebook does not have the restored one's cells."""
    if len(executed.cells) != len(restored.cells):
        return None
    graded = copy.deepcopy(restored)
    for cell, ran in zip(graded.cells, executed.cells):
        if cell.cell_type == "code" and ran.get("source") in (cell.source, _as_run(cell)) \
                and isinstance(ran.get("outputs"), list):
            cell.outputs = ran.outputs
            cell.execution_count = ran.get("execution_count")
    return graded


def _judgements(verification: VerificationRun, answers: dict, plan: CallPlan | None) -> list:
    try:
        by_cell = verify(verification.records, answers, plan)
    except Exception:  # malformed records: the learner's code wrote them
        return []
    return [j for cell_judgements in by_cell.values() for j in cell_judgements]


def _not_run(gid: str, index: int, pts: float, status: dict) -> CellResult:
    """A test cell the notebook run never reached (or whose notebook came back reshaped)."""
    failed_cell = status.get("failed_cell")
    if status["status"] in ("timeout", "kernel_died", "memory") and (failed_cell is None or index >= failed_cell):
        message = status.get("message", "")
        if failed_cell is not None and index > failed_cell:
            message = _("not run: an earlier cell stopped the notebook ({why})").format(why=message)
        return CellResult(gid, 0.0, pts, False, _short(message), Reason(status["status"]))
    return CellResult(gid, 0.0, pts, False, _short(status.get("message") or _("this test cell did not run")),
                      Reason.NOT_RUN)


def _ran(gid: str, cell: NotebookNode, pts: float, errored: bool, plan: CallPlan, judgements: list,
         verification: VerificationRun, hidden: list[str]) -> CellResult:
    """A test cell that ran: its points need the grader's own calls passed and no error in the run."""
    if not plan.calls_of(gid) and not plan.answers_of(gid):
        return CellResult(gid, 0.0, pts, False, _("this test has no check the grader can run"), Reason.NO_CHECK)
    verdict = cell_verdict(plan, gid, judgements)
    error, quoted = _error_message(cell, hidden)
    if error is None and errored:
        error = _("the test raised an error (its traceback was hidden)")
    if not verdict.passed:
        message = verdict.message or _no_result(plan, gid, verification, hidden)
        return CellResult(gid, 0.0, pts, False, _short(message), Reason.FAILED, verdict.reviews, verdict.what,
                          fingerprint=verdict.fingerprint, misses=verdict.misses)
    if error is not None:
        return CellResult(gid, 0.0, pts, False, _short(error), Reason.ERROR, [QUOTED_HIDDEN] if quoted else [])
    return CellResult(gid, pts, pts, True, _("passed"), Reason.PASSED)


def score(restored: NotebookNode, outcome: Outcome, answers: dict | None = None,
          plan: CallPlan | None = None) -> Verdict:
    """The verdict on one notebook from the plain data its sandboxes returned
    (`autograder.grading.worker.run_job`): per test cell results, the graded notebook (instructor
    sources, learner's outputs, hidden text scrubbed) and the run's status.

    `answers` is `trusted_answers` of the instructor's notebook, which a caller grading many
    submissions computes once; without it, it is computed from `restored`'s test cells."""
    status = run_status(outcome.notebook)
    executed = _executed(outcome.notebook)
    graded = _with_outputs(restored, executed) if executed is not None else None
    if executed is None:
        reason = Reason(status["status"]) if status["status"] != "ok" else Reason.ERROR
        return Verdict(all_zero(restored, reason, status.get("message") or _("the notebook did not run")),
                       restored, status)
    plan = plan or CallPlan()
    verification = outcome.verification or VerificationRun()
    judgements = _judgements(verification, answers if answers is not None else trusted_answers(restored), plan)
    hidden = learner_text.hidden_parts(restored)
    ran = set(status["executed"])
    results = []
    for gid, (index, pts) in test_cells(restored).items():
        if graded is None or index not in ran:
            results.append(_not_run(gid, index, pts, status))
        else:
            results.append(_ran(gid, graded.cells[index], pts, index in status["errored"], plan, judgements,
                                verification, hidden))
    graded = graded if graded is not None else copy.deepcopy(restored)
    learner_text.scrub_outputs(graded, hidden)
    for result in results:
        result.message, found = learner_text.redact(result.message, hidden)
        if found:
            result.review.append(QUOTED_HIDDEN)
    return Verdict(results, graded, status)

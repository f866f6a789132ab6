"""Restoring instructor cells and scoring executed notebooks, without running a kernel.

The verification run is played here: for each call of the grader's plan (fresh seeds) the real
exercise calls the learner's function and writes its record, exactly as `autograder.inside.verify_run`
does in its sandbox; the scores then come from the trusted re-verification.
"""
import copy
import json
from pathlib import Path

import nbformat
import pytest

from autograder import cell_meta
from autograder.grading import report, restore, score, verification
from autograder.grading.protocol import Ended, NotebookRun, Outcome, VerificationRun

pytestmark = pytest.mark.grading

SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "source" / "ps1" / "ps1.ipynb"


def corr2d_right(X, K):
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)  # (H - kh + 1, W - kw + 1, kh, kw)
    return (windows * K).sum(dim=(-2, -1))


def corr2d_flipped(X, K):
    return corr2d_right(X, K.flip(0, 1))


@pytest.fixture
def source():
    return nbformat.read(str(SOURCE), as_version=4)


def cell(nb, gid):
    return next(c for c in nb.cells if cell_meta.grade_id(c) == gid)


def submission_from(source, answers):
    """The released notebook (hidden tests and solutions gone) with `answers` in place."""
    nb = copy.deepcopy(source)
    cell_meta.strip_hidden_tests(nb)
    for c in nb.cells:
        if cell_meta.is_answer_cell(c):
            c.source = answers.get(cell_meta.grade_id(c), "# YOUR CODE HERE\nraise NotImplementedError()")
    return nb


def make_records(tmp_path, monkeypatch, calls):
    """Record files for [(cell id, check call)], made by the real checks."""
    from convlab.checks import CheckFailed

    record_dir = tmp_path / "records"
    record_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(record_dir))
    for cell_id, call in calls:
        monkeypatch.setenv("CONVLAB_CELL_ID", cell_id)
        try:
            call()
        except CheckFailed:
            pass
    monkeypatch.delenv("CONVLAB_RECORD_DIR")
    return {p.name: p.read_bytes() for p in sorted(record_dir.iterdir())}


def outcome_for(restored_nb, records, outputs=None, status="ok", failed_cell=None, errored=()):
    """What a sandbox returns: the executed notebook as text, the status and the records."""
    executed = copy.deepcopy(restored_nb)
    ran = []
    for index, c in enumerate(executed.cells):
        if c.cell_type == "code":
            if failed_cell is not None and index > failed_cell:
                continue
            c.outputs = [nbformat.from_dict(o) for o in (outputs or {}).get(cell_meta.grade_id(c), [])]
            if failed_cell is None or index < failed_cell:
                ran.append(index)
    status = json.dumps({"status": status, "message": f"{status} here", "executed": ran,
                         "failed_cell": failed_cell, "errored": list(errored)})
    return Outcome(("s", "nb"), NotebookRun(nbformat.writes(executed), status), VerificationRun(records))


def verified_records(tmp_path, monkeypatch, plan, fn, value=(3, 3)):
    """The records a verification run of `plan` leaves when the learner's function is `fn` and the
    learner's answer evaluates to `value`."""
    from convlab.checks.diagnose import normalise_answer
    from convlab.checks.record import write_answer_record, write_record
    from convlab.checks.registry import find as find_exercise

    record_dir = tmp_path / "verified"
    record_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(record_dir))
    for call in plan.calls:
        monkeypatch.setenv("CONVLAB_CELL_ID", call["cell_id"])
        exercise = find_exercise(call["check"])
        cases = exercise.cases(call["seed"], call["cases"])
        runs = [exercise.call(fn, case, i, device) for i, case in enumerate(cases) for device in exercise.devices(case)]
        write_record(call["check"], call["seed"], call["cases"], runs, None)
    for item in plan.answers:
        monkeypatch.setenv("CONVLAB_CELL_ID", item["cell_id"])
        write_answer_record(item["question"], normalise_answer(value), None)
    monkeypatch.delenv("CONVLAB_RECORD_DIR")
    return {p.name: p.read_bytes() for p in sorted(record_dir.iterdir())}


def kernel_calls(fn):
    """The check calls the notebook's own test cells make, with the seeds written in them."""
    from convlab.checks import answer, lesson01

    return [("corr2d_visible", lambda: lesson01.corr2d(fn)),
            ("corr2d_hidden", lambda: lesson01.corr2d(fn, seed=831, cases=20)),
            ("output_shape_test", lambda: answer("output_shape", (3, 3), (3, 3)))]


# -- restore ---------------------------------------------------------------------------------

def test_restore_keeps_answers_and_puts_the_instructors_tests_back(source):
    sub = submission_from(source, {"corr2d": "def corr2d(X, K):\n    return 'mine'"})
    cell(sub, "corr2d_hidden").source = "pass  # tests? what tests"
    cell(sub, "corr2d_visible").metadata["nbgrader"]["points"] = 100
    sub.cells = [c for c in sub.cells if cell_meta.grade_id(c) != "output_shape_test"]
    sub.cells.insert(0, nbformat.v4.new_code_cell("helper = 1"))  # a learner's own cell stays
    fake = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": {"grade": True, "grade_id": "bonus",
                                                                    "points": 50, "solution": False}})
    sub.cells.append(fake)
    result = restore.restore(sub, source)
    nb = result.nb
    assert cell(nb, "corr2d").source == "def corr2d(X, K):\n    return 'mine'"
    assert cell(nb, "corr2d_hidden").source == cell(source, "corr2d_hidden").source
    assert "seed=831" in cell(nb, "corr2d_hidden").source
    assert result.edited_cells == ["corr2d_hidden"] and result.restored_cells == ["output_shape_test"]
    ids = [cell_meta.grade_id(c) for c in nb.cells]
    assert ids.index("output_shape_test") == ids.index("output_shape") + 1
    assert nb.cells[0].source == "helper = 1"
    assert restore.test_cells(nb) == {"corr2d_visible": (ids.index("corr2d_visible"), 1.0),
                                      "corr2d_hidden": (ids.index("corr2d_hidden"), 2.0),
                                      "output_shape_test": (ids.index("output_shape_test"), 1.0)}
    assert "bonus" not in ids


def test_restore_brings_back_a_deleted_answer_empty_and_drops_duplicates(source):
    sub = submission_from(source, {})
    dup = copy.deepcopy(cell(sub, "corr2d_visible"))
    sub.cells = [c for c in sub.cells if cell_meta.grade_id(c) != "corr2d"]
    sub.cells.append(dup)
    nb = restore.restore(sub, source).nb
    ids = [cell_meta.grade_id(c) for c in nb.cells]
    assert ids.count("corr2d_visible") == 1
    assert "missing" in cell(nb, "corr2d").source and "def corr2d" not in cell(nb, "corr2d").source
    assert ids.index("corr2d") == ids.index("corr2d_prompt") + 1


# -- score -----------------------------------------------------------------------------------

def planned(source, answers=None):
    nb = restore.restore(submission_from(source, answers or {}), source).nb
    return nb, verification.plan_calls(nb, source)


def scored(tmp_path, monkeypatch, source, fn, outputs=None, **status):
    nb, plan = planned(source)
    records = verified_records(tmp_path, monkeypatch, plan, fn)
    verdict = score.score(nb, outcome_for(nb, records, outputs, **status), None, plan)
    results, graded = verdict.results, verdict.notebook
    return {r.grade_id: r for r in results}, graded


def test_right_answer_earns_every_point_and_stderr_costs_nothing(tmp_path, monkeypatch, source):
    spam = {gid: [{"output_type": "stream", "name": "stderr", "text": "UserWarning: noisy\n" * 50}]
            for gid in ("corr2d_visible", "corr2d_hidden", "output_shape_test")}
    results, graded = scored(tmp_path, monkeypatch, source, corr2d_right, outputs=spam)
    assert {g: r.points for g, r in results.items()} == {
        "corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
    assert "noisy" in cell(graded, "corr2d_visible").outputs[0]["text"]


def test_wrong_values_fail_with_the_checks_explanation(tmp_path, monkeypatch, source):
    results, _ = scored(tmp_path, monkeypatch, source, corr2d_flipped)
    assert results["corr2d_visible"].points == 0 and results["corr2d_hidden"].points == 0
    assert "flipped" in results["corr2d_visible"].message
    assert results["output_shape_test"].points == 1.0


def test_an_error_in_the_test_cell_costs_the_points_even_with_passing_records(tmp_path, monkeypatch, source):
    error = {"corr2d_visible": [{"output_type": "error", "ename": "AssertionError", "evalue": "boom",
                                 "traceback": []}]}
    results, _ = scored(tmp_path, monkeypatch, source, corr2d_right, outputs=error)
    assert results["corr2d_visible"].points == 0 and results["corr2d_visible"].reason == "error"
    assert results["corr2d_visible"].message == "AssertionError: boom"
    assert results["corr2d_hidden"].points == 2.0


def test_an_error_reply_with_its_traceback_hidden_still_costs_the_points(tmp_path, monkeypatch, source):
    nb, plan = planned(source)
    visible = [cell_meta.grade_id(c) for c in nb.cells].index("corr2d_visible")
    records = verified_records(tmp_path, monkeypatch, plan, corr2d_right)
    results = score.score(nb, outcome_for(nb, records, errored=[visible]), None, plan).results
    by_id = {r.grade_id: r for r in results}
    assert by_id["corr2d_visible"].points == 0 and by_id["corr2d_visible"].reason == "error"
    assert by_id["corr2d_hidden"].points == 2.0


def test_records_the_notebook_made_itself_earn_nothing(tmp_path, monkeypatch, source):
    """Right answers recorded with the seeds the test cells write (what a kernel could forge) are not
    the grader's own calls: nothing is earned without the verification run's records."""
    nb, plan = planned(source)
    records = make_records(tmp_path, monkeypatch, kernel_calls(corr2d_right))
    results = score.score(nb, outcome_for(nb, records), None, plan).results
    by_id = {r.grade_id: r for r in results}
    assert by_id["corr2d_visible"].points == 0 and by_id["corr2d_hidden"].points == 0
    assert "no result came back" in by_id["corr2d_visible"].message


def test_each_grading_run_draws_fresh_seeds_the_same_for_all_its_submissions(source, monkeypatch):
    import secrets

    nb, first = planned(source)
    _, second = planned(source)  # another submission of the same run: the same cases, to compare outputs
    seeds = [c["seed"] for c in first.calls]
    assert [c["seed"] for c in second.calls] == seeds and len(set(seeds)) == 2  # each call its own
    monkeypatch.setattr(verification, "_RUN_SECRET", secrets.token_bytes(16))  # the next run
    _, later = planned(source)
    assert not set(seeds) & {c["seed"] for c in later.calls}
    assert 831 not in seeds and [c["cases"] for c in first.calls] == [None, 20]


def test_malformed_records_earn_nothing(tmp_path, monkeypatch, source):
    nb = restore.restore(submission_from(source, {}), source).nb
    records = {"0001-lesson01.corr2d.json": b"{not json", "0002-answer.json": b"\x00" * 10}
    results = score.score(nb, outcome_for(nb, records), None, verification.plan_calls(nb, source)).results
    assert all(r.points == 0 for r in results)


def test_timeout_zeroes_the_cell_it_hit_and_everything_after(tmp_path, monkeypatch, source):
    nb, plan = planned(source)
    hidden = [cell_meta.grade_id(c) for c in nb.cells].index("corr2d_hidden")
    records = verified_records(tmp_path, monkeypatch, plan, corr2d_right)
    results = score.score(nb, outcome_for(nb, records, status="timeout", failed_cell=hidden), None, plan).results
    by_id = {r.grade_id: r for r in results}
    assert by_id["corr2d_visible"].points == 1.0
    assert by_id["corr2d_hidden"].reason == "timeout" and by_id["output_shape_test"].reason == "timeout"
    assert "not run" in by_id["output_shape_test"].message


def test_a_kernel_killed_by_the_memory_cgroup_is_reported_as_memory(tmp_path, monkeypatch, source):
    nb, plan = planned(source)
    hidden = [cell_meta.grade_id(c) for c in nb.cells].index("corr2d_hidden")
    records = verified_records(tmp_path, monkeypatch, plan, corr2d_right)
    outcome = outcome_for(nb, records, status="kernel_died", failed_cell=hidden)
    outcome.notebook.ended.oom_killed = True
    results = score.score(nb, outcome, None, plan).results
    by_id = {r.grade_id: r for r in results}
    assert by_id["corr2d_visible"].points == 1.0
    assert by_id["corr2d_hidden"].reason == "memory" and "memory limit" in by_id["corr2d_hidden"].message


def test_nothing_came_back_means_zero_with_the_reason(source):
    nb = restore.restore(submission_from(source, {}), source).nb
    verdict = score.score(nb, Outcome(("s", "nb"), NotebookRun(ended=Ended(timed_out=True))))
    assert all(r.points == 0 and r.reason == "timeout" for r in verdict.results)
    assert verdict.status["status"] == "timeout"


def test_expected_calls_are_read_from_the_test_source():
    src = ("from convlab.checks import lesson01 as check\nfrom convlab.checks import answer\n"
           "check.corr2d(corr2d)\ncheck.corr2d(corr2d, seed=831, cases=20)\nanswer('q', q, 3)\n"
           "if False:\n    check.corr2d(corr2d, seed=5)\n")
    assert verification.check_calls(src) == [
        verification.Call("lesson01.corr2d", "corr2d", 0, None), verification.Call("lesson01.corr2d", "corr2d", 831, 20),
        verification.Call("answer:q", "q", expected="3")]


def test_each_test_cell_shows_the_graders_verdict_but_no_test_source(tmp_path, monkeypatch, source):
    results, _ = scored(tmp_path, monkeypatch, source, corr2d_flipped)
    nb = report.with_verdicts(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        metadata={"nbgrader": {"grade_id": gid}}) for gid in results]), [r.as_dict() for r in results.values()])
    shown = {cell.metadata.nbgrader.grade_id: cell.outputs[-1].data for cell in nb.cells}
    assert "flipped" in shown["corr2d_visible"]["text/plain"] and "0 / 2" in shown["corr2d_hidden"]["text/plain"]
    assert shown["output_shape_test"]["text/plain"] == "convlab grade: passed, 1 / 1 points"
    for secret in ("seed=831", "BEGIN HIDDEN", "check.corr2d(", "torch.zeros(1, 1, 5, 5)"):
        assert secret not in json.dumps(shown)


# -- trusted answers -------------------------------------------------------------------------

LESSON_SOURCES = sorted((Path(__file__).resolve().parents[2] / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", LESSON_SOURCES, ids=[p.parent.name for p in LESSON_SOURCES])
def test_every_lesson_answer_is_judged_by_an_expected_value_computed_by_the_grader(path):
    nb = nbformat.read(str(path), as_version=4)
    written = [call.check[len("answer:"):] for _, (index, _) in restore.test_cells(nb).items()
               for call in verification.check_calls(nb.cells[index].source) if call.check.startswith("answer:")]
    trusted = score.trusted_answers(nb)
    assert written, "a lesson without a check-your-understanding question"
    assert sorted(trusted) == sorted(set(written)), "expected values that need the kernel's variables"


def test_a_forged_expected_value_does_not_earn_the_answer(tmp_path, monkeypatch):

    nb = nbformat.v4.new_notebook()
    test = nbformat.v4.new_code_cell(
        'from convlab.checks import answer\nanswer("size", size(), conv_output_size(7, 3))')
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "size_test", "locked": True, "points": 1,
                                 "schema_version": 3, "solution": False, "task": False}
    nb.cells = [test]
    # The learner answers 4; the grader computes the expected 5 itself.
    plan = verification.plan_calls(nb, nb)
    records = verified_records(tmp_path, monkeypatch, plan, None, value=4)
    results = score.score(nb, outcome_for(nb, records), None, plan).results
    assert results[0].points == 0 and not results[0].passed
    (tmp_path / "honest").mkdir()
    honest = verified_records(tmp_path / "honest", monkeypatch, plan, None, value=5)
    results = score.score(nb, outcome_for(nb, honest), None, plan).results
    assert results[0].points == 1


def test_a_test_cell_names_every_call_it_missed_not_only_the_first():
    from autograder.grading.rejudge import Judgement
    from autograder.grading.verification import CallPlan, answer_check, cell_verdict

    plan = CallPlan(calls=[{"check": "lesson01.corr2d", "object": "corr2d", "seed": 3, "cases": None, "cell_id": "t"}],
                    answers=[{"question": q, "expression": "x", "cell_id": "t"} for q in ("q1", "q2")])
    verdicts = [Judgement("lesson01.corr2d", True, "right", 3),
                Judgement(answer_check("q1"), False, "q1: not answered yet."),
                Judgement(answer_check("q2"), False, "q2: not right yet — try again.")]
    verdict = cell_verdict(plan, "t", verdicts)
    assert not verdict.passed and verdict.message.splitlines() == ["q1: not answered yet.", "q2: not right yet — try again."]
    assert verdict.misses == ["q1: not answered yet.", "q2: not right yet — try again."]  # apart, for `convlab check`


def test_convlab_check_lists_each_call_a_cell_missed_once_per_exercise():
    import nbformat

    from autograder.grading.check import by_exercise
    from autograder.grading.protocol import CellResult, Reason, Verdict

    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("def f(): pass", metadata={"nbgrader": {
        "grade_id": "f", "solution": True, "grade": False, "locked": False, "schema_version": 3}})
    test = nbformat.v4.new_code_cell("check.f(f)", metadata={"nbgrader": {
        "grade_id": "t", "solution": False, "grade": True, "points": 2, "locked": True, "schema_version": 3}})
    nb.cells = [answer, test]
    misses = ["lesson02.corr2d, case 1 of 5 (X (10, 11)):\nwrong values.", "strided_shape: not answered yet."]
    verdict = Verdict([CellResult("t", 0.0, 2.0, False, "\n".join(misses), Reason.FAILED, misses=misses)], nb)
    [result] = by_exercise(nb, verdict)
    assert result.feedback == "\n".join(misses) and (result.earned, result.possible) == (0.0, 2.0)


def test_a_check_whose_notebook_run_fails_does_not_wait_for_its_grader_run(monkeypatch):
    """`convlab check` runs both at once; Ctrl-C or an error in one must not hang on the other."""
    import threading
    import time

    from autograder.grading import worker
    from autograder.grading.protocol import Job

    released, killed = threading.Event(), []
    monkeypatch.setattr(worker, "run_verification", lambda job: released.wait(60))
    monkeypatch.setattr(worker.sandbox, "kill_all", lambda: (killed.append(True), released.set()))

    def interrupted(job):
        time.sleep(0.2)
        raise KeyboardInterrupt

    monkeypatch.setattr(worker, "run_notebook", interrupted)
    job = Job(("check", "nb"), "{}", {"calls": [], "answers": []}, {}, 60.0, 512, "none")
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        worker.run_job(job, together=True)
    assert killed and time.monotonic() - start < 10


def test_a_call_that_left_no_result_keeps_its_reason_when_a_later_one_fails():
    from autograder.grading.rejudge import Judgement
    from autograder.grading.verification import CallPlan, answer_check, cell_verdict

    plan = CallPlan(calls=[{"check": "lesson01.corr2d", "object": "corr2d", "seed": 3, "cases": None, "cell_id": "t"}],
                    answers=[{"question": "q1", "expression": "x", "cell_id": "t"}])
    verdict = cell_verdict(plan, "t", [Judgement(answer_check("q1"), False, "q1: not answered yet.")])
    assert not verdict.passed and verdict.message == ""  # score says why the first call left nothing

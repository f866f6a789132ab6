"""One notebook's way through grading, as `convlab grade` and `convlab check` both take it: the
instructor's notebook it is graded against (`Source`), the job that runs it and the calls the
grader will make (`planned_job`), and its verdict from what came back (`score_notebook`)."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import nbformat

from autograder import cell_meta
from autograder.grading import flags as flags_
from autograder.grading import learner_text, restore, review, score, verification
from autograder.grading.protocol import Job, Outcome, Reason, Settings, Verdict
from convlab import i18n
from convlab.checks.questions import PersonalQuestion


@dataclass
class Source:
    """An instructor notebook, with what the grader derives from it once for all its submissions."""

    nb: nbformat.NotebookNode
    exercise_names: dict[str, str]  # test cell grade id -> the exercise it scores
    answers: dict  # score.trusted_answers
    lang: str = "en"  # the lesson's language, which its learners read their feedback in

    @classmethod
    def of(cls, nb: nbformat.NotebookNode) -> Source:
        names = {cell_meta.grade_id(nb.cells[i]): exercise.name
                 for exercise in cell_meta.exercises(nb) for i in exercise.tests}
        return cls(nb, names, score.trusted_answers(nb), i18n.declared(nb.metadata))


@dataclass
class Planned:
    """A submitted notebook on its way through the stages."""

    source: Source
    restored: restore.Restored
    plan: verification.CallPlan
    flags: list  # from reading the learner's code (autograder.grading.review)
    learner: str | None = None  # whose numbers per-student questions are judged by (the grader's own word)

    @property
    def answers(self) -> dict:
        """The source's trusted answers, each per-student question bound to this learner."""
        return {q: a.for_learner(self.learner) if isinstance(a, PersonalQuestion) else a
                for q, a in self.source.answers.items()}


def _without_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What the notebook run executes: hidden tests never enter the sandbox, so no learner code can
    read them there (`In`, frames, files). They earn nothing there either: points come from the
    grader's own calls (`autograder.grading.verification`), planned from the restored notebook."""
    run = copy.deepcopy(nb)
    cell_meta.strip_hidden_tests(run)
    return run


def planned_job(key: tuple, restored: restore.Restored, source: Source, files: dict[str, bytes],
                settings: Settings, learner: str | None = None) -> tuple[Planned, Job]:
    """What the grader will score a restored notebook by, and the job that runs it."""
    calls = verification.plan_calls(restored.nb, source.nb)
    calls.seconds = settings.verify_seconds
    flags = review.review_notebook(restored.nb, source.nb) + review.review_files(files)
    planned = Planned(source, restored, calls, flags, learner)
    job = Job(key, nbformat.writes(_without_hidden_tests(restored.nb)), calls.as_job(), files,
              float(settings.timeout), settings.memory_mb, settings.sandbox, source.lang, settings.gpus, learner)
    return planned, job


def _memory_errors(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of cells whose error says memory ran out (the sandbox's memory limit)."""
    def out_of_memory(output) -> bool:
        return output.get("output_type") == "error" and (
            "MemoryError" in str(output.get("ename", "")) or "can't allocate memory" in str(output.get("evalue", "")))
    return [i for i, cell in enumerate(nb.cells) if any(out_of_memory(o) for o in cell.get("outputs", []))]


def _comment(verdict: Verdict, restored: restore.Restored, memory_mb: int) -> str | None:
    status, notes = verdict.status, []
    if status.get("status") not in (None, "ok"):
        notes.append(f"{status['status']}: {status.get('message', '')}".strip())
    memory_cells = _memory_errors(verdict.notebook)
    if memory_cells:
        notes.append(f"memory: the {memory_mb} MB limit was reached in cell "
                     + ", ".join(str(i + 1) for i in memory_cells))
    if restored.restored_cells:
        notes.append("cells missing from the submission were put back: " + ", ".join(restored.restored_cells))
    if restored.edited_cells:
        notes.append("edited test cells were restored: " + ", ".join(restored.edited_cells))
    return "; ".join(notes) or None


def _add_feedback(verdict: Verdict, planned: Planned, outcome: Outcome) -> None:
    """The learner's messages in the lesson's language, where it is not the grader's: the same
    scoring, deterministic, said again in that language (the report keeps the grader's words)."""
    if planned.source.lang == i18n.language():
        return
    try:
        with i18n.in_language(planned.source.lang):
            said = score.score(planned.restored.nb, outcome, planned.answers, planned.plan)
    except Exception as exc:  # the grade stands; the learner reads the grader's words, the instructor sees why
        for result in verdict.results:
            result.review.append(f"feedback in {planned.source.lang} failed ({type(exc).__name__}): shown in "
                                 f"{i18n.language()}")
        return
    for result, learners in zip(verdict.results, said.results):
        if (result.grade_id, result.passed, result.points) == (learners.grade_id, learners.passed, learners.points):
            result.feedback = learners.message


def score_notebook(planned: Planned, outcome: Outcome | None, error: BaseException | None,
                   settings: Settings) -> Verdict:
    """The verdict on one notebook: scored from its outcome, or all zero when its worker failed."""
    restored = planned.restored
    verdict = None
    if outcome is not None:
        try:
            verdict = score.score(restored.nb, outcome, planned.answers, planned.plan)
            _add_feedback(verdict, planned, outcome)
        except Exception as exc:  # one unreadable result must not stop the run
            error = exc
    if verdict is None:
        why = f"scoring failed: {type(error).__name__}: {error}" if outcome is not None else (
            f"{type(error).__name__}: {error}" if error is not None else "the grading worker failed")
        message = learner_text.clean(why, learner_text.hidden_parts(restored.nb))[0]
        verdict = Verdict(score.all_zero(restored.nb, Reason.WORKER_ERROR, message), restored.nb,
                          {"status": str(Reason.WORKER_ERROR), "message": message})
    flags_.attach(verdict.results, restored.nb, planned.flags + flags_.runtime_flags(outcome))
    verdict.comment = _comment(verdict, restored, settings.memory_mb)
    return verdict

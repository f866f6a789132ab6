"""`convlab grade DIR`: autograde every submission of a course, sandboxed and in parallel.

Five stages, each a function a test can call alone:
`plan` (restore each submitted notebook against its source, plan the grader's own calls, read
the learner's code for review flags) → `run` (both sandboxed runs on a local worker or a Dask
cluster, `autograder.grading.pool`) → `score` (in this trusted process, `autograder.grading.score`) → `store`
(autograded/ as nbgrader lays it out, one gradebook transaction per submission) → `report`
(`grades.csv`, the instructor report, a summary table). Only this process writes.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace

import nbformat
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from autograder import sandbox
from autograder.coursedir import CourseDir
from autograder.grading import feedback, inert, late, learner_text, pool, report, restore, score, store
from autograder.grading.notebook_job import Planned, Source, planned_job, score_notebook
from autograder.grading.protocol import Job, Reason, Settings, Verdict
from autograder.grading.submissions import (
    MAX_SUBMISSION_BYTES,
    MAX_SUBMISSION_CELLS,
    Submission,
    discover,
    files_beside,
    lay_out_autograded,
    source_notebooks,
)
from autograder.grading.worker import remove_stale_workdirs
from autograder.mutants import one_thread
from autograder.sandbox import SandboxUnavailable, cgroup
from autograder.sandbox.gpus import plan as gpu_plan
from convlab import i18n

__all__ = ["grade", "plan", "report_run", "write_graded"]

UNSANDBOXED = ("GRADED WITHOUT A SANDBOX (--no-sandbox): student code ran with this user's rights, "
               "files and network, as under plain nbgrader.")


@dataclass
class Work:
    """What `plan` found: the submissions to grade, their notebooks' jobs, and what was skipped."""

    submissions: list[Submission]
    sources: dict[str, dict[str, Source]]  # assignment -> notebook name -> Source
    planned: dict[tuple[int, str], Planned] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    skipped: int = 0
    late_rule: object = None  # the course's late step (`late.rule`); None: no penalty

    def complete(self, index: int) -> bool:
        """Whether every notebook of submission `index` has its verdict."""
        return set(self.submissions[index].verdicts) == set(self.sources[self.submissions[index].assignment])


# -- plan ------------------------------------------------------------------------------------

class _Unreadable(Exception):
    def __init__(self, reason: Reason, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _restored(path: str, name: str, source: nbformat.NotebookNode) -> restore.Restored:
    """The submitted notebook at `path` with the instructor's cells restored from `source`."""
    if not os.path.isfile(path):
        raise _Unreadable(Reason.MISSING_NOTEBOOK, f"{name}.ipynb is missing from the submission")
    if os.path.getsize(path) > MAX_SUBMISSION_BYTES:
        raise _Unreadable(Reason.INVALID_NOTEBOOK, f"{name}.ipynb is larger than {MAX_SUBMISSION_BYTES // 2**20} MiB")
    try:
        with open(path, encoding="utf-8") as f:
            submitted = nbformat.reads(f.read(), as_version=4)
    except Exception as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise _Unreadable(Reason.INVALID_NOTEBOOK, f"{name}.ipynb could not be read as a notebook "
                                                   f"({type(exc).__name__}: {first})") from None
    if len(submitted.get("cells", ())) > MAX_SUBMISSION_CELLS:
        raise _Unreadable(Reason.INVALID_NOTEBOOK, f"{name}.ipynb has more than {MAX_SUBMISSION_CELLS} cells")
    return restore.restore(submitted, source)


def _plan_notebook(work: Work, index: int, name: str, source: Source, settings: Settings) -> None:
    """A job for one submitted notebook, or its all-zero verdict when it cannot be read or planned:
    whatever a submission holds stops its own grading, never the class's."""
    sub = work.submissions[index]
    try:
        restored = _restored(os.path.join(sub.path, f"{name}.ipynb"), name, source.nb)
        work.planned[index, name], job = planned_job((index, name), restored, source, files_beside(sub.path),
                                                     settings, sub.student)
    except _Unreadable as exc:
        sub.verdicts[name] = _unplanned(source, exc.reason, exc.message)
        return
    except Exception as exc:
        message = f"{name}.ipynb could not be planned ({type(exc).__name__}: {str(exc)[:200]})"
        sub.verdicts[name] = _unplanned(source, Reason.INVALID_NOTEBOOK,
                                        learner_text.clean(message, learner_text.hidden_parts(source.nb))[0])
        return
    work.jobs.append(job)


def _unplanned(source: Source, reason: Reason, message: str) -> Verdict:
    """The all-zero verdict of a notebook that never runs, with the reason the learner reads."""
    return Verdict(score.all_zero(source.nb, reason, message), None, {"status": str(reason), "message": message},
                   message)


def _sources(course: CourseDir, gb, assignments: list[str], console: Console) -> dict[str, dict[str, Source]]:
    sources = {}
    for assignment in assignments:
        notebooks = source_notebooks(course, assignment)
        if notebooks:
            store.ensure_assignment(gb, assignment, notebooks)
        else:
            console.print(Text(f"no source/{assignment}/: its submissions are skipped", style="yellow"))
        sources[assignment] = {name: Source.of(nb) for name, nb in notebooks.items()}
    return sources


def plan(course: CourseDir, gb, settings: Settings, console: Console) -> Work:
    """Every submission not graded yet (all with `force`) of the run's assignments (all by default),
    each notebook restored and planned."""
    submitted = [s for s in discover(course) if not settings.assignments or s.assignment in settings.assignments]
    sources = _sources(course, gb, sorted({s.assignment for s in submitted}), console)
    gradable = [s for s in submitted if sources[s.assignment]]
    done = store.done_digests(gb)
    todo = [s for s in gradable if settings.force or done.get((s.student, s.assignment)) != s.digest]
    work = Work(todo, sources, skipped=len(gradable) - len(todo), late_rule=late.rule(course.settings))
    for index, sub in enumerate(todo):
        for name, source in sources[sub.assignment].items():
            _plan_notebook(work, index, name, source, settings)
    return work


# -- score -----------------------------------------------------------------------------------

# -- store and report ------------------------------------------------------------------------

def _results(verdict: Verdict, source: Source) -> list[dict]:
    """Results as dicts, each naming the exercise (answer cell) its test cell scores."""
    return [{**r.as_dict(), "exercise": source.exercise_names.get(r.grade_id, r.grade_id)} for r in verdict.results]


def write_graded(course: CourseDir, gb, work: Work, index: int, settings: Settings) -> dict:
    """Write one finished submission: autograded/ as nbgrader's autograde lays it out (the notebooks
    with the grader's verdicts in their test cells), then one gradebook transaction."""
    sub = work.submissions[index]
    target = course.autograded(sub.student, sub.assignment)
    lay_out_autograded(sub.path, str(course.source(sub.assignment)), str(target))
    notebooks = {}
    for name, verdict in sub.verdicts.items():
        source = work.sources[sub.assignment][name]
        results = _results(verdict, source)
        with i18n.in_language(source.lang):
            graded = inert.for_pages(verdict.notebook, source.nb) if verdict.notebook is not None else report.stand_in(
                source.nb, verdict.status.get("message") or "unreadable")
            graded = report.with_verdicts(graded, results)
        report.atomic_write(course.autograded(sub.student, sub.assignment, name), nbformat.writes(graded))
        notebooks[name] = {"results": results, "status": verdict.status.get("status"), "comment": verdict.comment,
                           "lang": source.lang}
    summary = {"student": sub.student, "assignment": sub.assignment, "sandbox": settings.sandbox,
               "sandboxed": sandbox.by_name(settings.sandbox).isolates,
               "score": sum(r["points"] for info in notebooks.values() for r in info["results"]),
               "max_score": sum(r["max_points"] for info in notebooks.values() for r in info["results"]),
               "notebooks": notebooks}
    return store.store_submission(gb, student=sub.student, assignment=sub.assignment, digest=sub.digest,
                                  timestamp=sub.timestamp, summary=summary, late_rule=work.late_rule,
                                  notebooks={n: info["results"] for n, info in notebooks.items()})


def report_run(course: CourseDir, gb, graded: list[dict], refused: dict[int, str], work: Work,
               settings: Settings) -> None:
    """grades.csv and the instructor report from everything stored; the run's summary on the terminal."""
    console = Console()
    for index, why in sorted(refused.items()):
        sub = work.submissions[index]
        Console(stderr=True).print(Text(f"not graded, the worker's sandbox cannot run: {sub.student}/"
                                        f"{sub.assignment}: {why}", style="bold red"))
    stored = store.details(gb)
    _feedback(course, [s for s in stored if not settings.assignments or s["assignment"] in settings.assignments],
              console)
    report.write_grades_csv(gb, course)
    report.instructor_report(course, stored)
    if graded:
        report.summary_table(graded, console=console)
    else:
        console.print("nothing to grade")
    if not sandbox.by_name(settings.sandbox).isolates:
        console.print(Text(UNSANDBOXED, style="bold red"))


def _feedback(course: CourseDir, stored: list[dict], console: Console) -> None:
    """nbgrader's feedback pages for every stored submission whose grade is newer than its feedback."""
    made = feedback.generate(course, [(s["student"], s["assignment"]) for s in stored])
    if made.made:
        console.print(f"feedback (nbgrader generate_feedback) made for {len(made.made)} submission(s)"
                      + (f", replacing older feedback of {', '.join(made.replaced)}" if made.replaced else ""))
    for name, why in made.failed.items():
        Console(stderr=True).print(Text(f"feedback not made for {name}: {why}", style="bold red"))


# -- the run ---------------------------------------------------------------------------------

def _host_ready(settings: Settings, console: Console) -> Settings | None:
    """`settings` with its sandbox backend chosen, once, for every job; None (refused, said) when
    it cannot run here. On a Dask cluster each worker probes its own host and refuses there; a
    run without a sandbox is said loudly."""
    try:
        if settings.scheduler is None:
            chosen = sandbox.choose(settings.sandbox)
        else:
            chosen = sandbox.by_name(settings.sandbox) if settings.sandbox else sandbox.safest()
    except SandboxUnavailable as error:
        console.print(Text(f"convlab grade: refused, the grading sandbox cannot run here: {error}.", style="bold red"))
        return None
    if not chosen.isolates:
        console.print(Text(UNSANDBOXED, style="bold red"))
    if settings.scheduler is None:  # a cluster's workers each hand out their own
        console.print(f"GPUs: {gpu_plan(settings.gpus, settings.workers)}")
    remove_stale_workdirs()
    cgroup.remove_stale()
    return replace(settings, sandbox=chosen.name)


def _graders_language(console: Console) -> str | None:
    """The grader's own language, its report's: `CONVLAB_LANG`, else English (never the language of
    a notebook it happens to be run from); None, said, when the variable names no language we have."""
    chosen = os.environ.get(i18n.ENV) or "en"
    if chosen not in i18n.LANGUAGES:
        console.print(Text(f"convlab grade: refused, {i18n.ENV}={chosen!r}: choose one of "
                           f"{', '.join(i18n.LANGUAGES)}", style="bold red"))
        return None
    return chosen


def _progress(console: Console, total: int) -> Progress:
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console, transient=False)
    progress.add_task("grading", total=total)
    return progress


def _stored(course: CourseDir, gb, work: Work, index: int, settings: Settings, progress: Progress) -> dict | None:
    """Store one submission; one that cannot be stored is said, and the class's grading goes on."""
    progress.advance(progress.task_ids[0])
    try:
        return write_graded(course, gb, work, index, settings)
    except Exception as exc:
        sub = work.submissions[index]
        Console(stderr=True).print(Text(f"not stored: {sub.student}/{sub.assignment}: {type(exc).__name__}: "
                                        f"{str(exc)[:300]}", style="bold red"))
        return None


def grade(course_dir, *, workers=None, scheduler=None, timeout=Settings.timeout, memory_mb=Settings.memory_mb,
          force=False, sandbox=None, assignments=(), gpus=()) -> int:
    """Autograde `course_dir` (see the module docstring); 0 when the run completed, 2 when the
    sandbox cannot run here or CONVLAB_LANG names no language (nothing is graded or stored).
    `sandbox` names a backend of `autograder.sandbox` (default: the safest that runs here);
    `sandbox="none"` grades as plain nbgrader does, student code with this user's rights, and
    every report says so. `assignments` limits the run to those assignments (each must have a
    `source/` folder), so runs on different assignments can go on at once."""
    settings = Settings(workers, scheduler, timeout, memory_mb, force, sandbox, assignments)
    course = CourseDir.existing(course_dir)
    for name in settings.assignments:
        if not course.source(name).is_dir():
            raise ValueError(f"assignments: no source/{name}/ in the course, got assignment={name!r}")
    console = Console(stderr=True)
    graders = _graders_language(console)
    settings = _host_ready(settings, console) if graders is not None else None
    if settings is None:
        return 2
    gb = store.open_gradebook(course)
    graded, refused = [], {}
    try:
        with one_thread(), i18n.in_language(graders):  # tiny float64 references: threads only contend
            work = plan(course, gb, settings, console)
            if work.skipped:
                console.print(f"{work.skipped} submission(s) already graded (use --force to regrade)")
            with _progress(console, len(work.submissions)) as progress:
                graded += [summary for i in range(len(work.submissions)) if work.complete(i)
                           for summary in [_stored(course, gb, work, i, settings, progress)] if summary]
                with contextlib.closing(pool.run(work.jobs, settings.workers, settings.scheduler)) as finished:
                    for (index, name), outcome, error in finished:
                        if isinstance(error, SandboxUnavailable):  # a worker host without it: store nothing
                            refused[index] = str(error)
                        if index in refused:
                            continue
                        planned = work.planned[index, name]
                        work.submissions[index].verdicts[name] = score_notebook(planned, outcome, error, settings)
                        summary = _stored(course, gb, work, index, settings, progress) if work.complete(index) else None
                        if summary is not None:
                            graded.append(summary)
            report_run(course, gb, graded, refused, work, settings)
    finally:
        gb.close()
    return 2 if refused else 0

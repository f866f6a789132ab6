"""`convlab grade DIR`: autograde every submission of a course, sandboxed and in parallel.

Per notebook: restore the instructor's cells (`autograder.restore`), execute in the sandbox on a
local worker or a Dask cluster (`autograder.worker`), then score in this trusted process
(`autograder.score`). This process alone writes: the autograded notebook (atomically), the
learner's feedback page, and one gradebook transaction per submission (`autograder.store`).
At the end: `grades.csv`, the instructor report and a summary table (`autograder.report`).
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import os
import shutil
import sys
from dataclasses import dataclass, field

import nbformat

from autograder import cgroup, report, restore, review, sandbox, score, store, verification
from autograder import flags as flags_
from autograder import learner_text
from autograder.worker import remove_stale_workdirs, run_job


MAX_SUBMISSION_BYTES = 64 * 2**20
UNSANDBOXED = ("GRADED WITHOUT A SANDBOX (--no-sandbox): student code ran with this user's rights, "
               "files and network, as under plain nbgrader.")
# Files a learner may submit beside the notebook (a helper module, a small data file).
MAX_FILES_BESIDE = 50
MAX_FILES_BESIDE_BYTES = 16 * 2**20


@dataclass
class Submission:
    """One student's submitted assignment: `DIR/submitted/<student>/<assignment>/`."""

    student: str
    assignment: str
    path: str
    digest: str = ""
    timestamp: str | None = None
    results: dict[str, dict] = field(default_factory=dict)  # notebook -> {"results", "comment", ...}


def default_workers() -> int:
    """One more than the cores this process may use: each notebook's two runs wait on kernel start
    and process exits part of the time (on 2 cores, 3 workers grade in 3.0 s per submission, 2 in 3.6)."""
    if hasattr(os, "process_cpu_count"):
        cores = os.process_cpu_count() or 1
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 1


def _digest(path: str) -> str:
    """Digest of what a submission holds: its notebooks, its timestamp and the files beside them."""
    h = hashlib.sha256()
    for name, data in sorted(files_beside(path).items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    for name in sorted(os.listdir(path)):
        if name.endswith(".ipynb") or name == "timestamp.txt":
            full = os.path.join(path, name)
            if os.path.isfile(full):
                h.update(name.encode() + b"\0")
                with open(full, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def files_beside(path: str) -> dict[str, bytes]:
    """Regular files submitted beside the notebooks (not notebooks, not nbgrader's own, no links,
    no hidden folders), as `nbgrader autograde` would have them; within a count and size limit."""
    found: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            full = os.path.join(root, name)
            relative = os.path.relpath(full, path)
            if name.endswith(".ipynb") or relative == "timestamp.txt" or os.path.islink(full) \
                    or not os.path.isfile(full):
                continue
            size = os.path.getsize(full)
            if len(found) >= MAX_FILES_BESIDE or total + size > MAX_FILES_BESIDE_BYTES:
                return found
            with open(full, "rb") as f:
                found[relative] = f.read()
            total += size
    return found


def discover(course_dir: str) -> list[Submission]:
    """Every `submitted/<student>/<assignment>/` directory, in a stable order."""
    root = os.path.join(course_dir, "submitted")
    found = []
    if not os.path.isdir(root):
        return found
    for student in sorted(os.listdir(root)):
        for assignment in sorted(os.listdir(os.path.join(root, student))) if os.path.isdir(
                os.path.join(root, student)) else []:
            path = os.path.join(root, student, assignment)
            if not os.path.isdir(path):
                continue
            stamp = None
            stamp_file = os.path.join(path, "timestamp.txt")
            if os.path.isfile(stamp_file):
                with open(stamp_file) as f:
                    stamp = f.read().strip() or None
            found.append(Submission(student, assignment, path, _digest(path), stamp))
    return found


def source_notebooks(course_dir: str, assignment: str) -> dict[str, nbformat.NotebookNode]:
    """notebook name -> the instructor's notebook from `DIR/source/<assignment>/`."""
    folder = os.path.join(course_dir, "source", assignment)
    if not os.path.isdir(folder):
        return {}
    return {name[: -len(".ipynb")]: nbformat.read(os.path.join(folder, name), as_version=4)
            for name in sorted(os.listdir(folder)) if name.endswith(".ipynb")}


def _without_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What the notebook run executes: hidden tests never enter the sandbox, so no learner code can
    read them there (`In`, frames, files). They earn nothing there either: points come from the
    grader's own calls (`autograder.verification`), planned from the restored notebook."""
    run = copy.deepcopy(nb)
    restore.nbmeta.strip_hidden_tests(run)
    return run


def _exercise_names(source: nbformat.NotebookNode) -> dict[str, str]:
    """Test cell grade id -> the exercise (answer cell) it scores."""
    return {restore.nbmeta.grade_id(source.cells[i]): exercise.name
            for exercise in restore.nbmeta.exercises(source) for i in exercise.tests}


def _with_exercises(results: list, names: dict[str, str]) -> list[dict]:
    """Results as dicts, each naming the exercise (from `_exercise_names`) its test cell scores."""
    return [{**r.as_dict(), "exercise": names.get(r.grade_id, r.grade_id)} for r in results]


def _memory_errors(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of cells whose error says memory ran out (the sandbox's memory limit)."""
    hits = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and (
                    "MemoryError" in str(output.get("ename", ""))
                    or "can't allocate memory" in str(output.get("evalue", ""))):
                hits.append(index)
                break
    return hits


def _comment(status: dict, restored: restore.Restored | None, memory_mb: int | None = None,
             memory_cells: list[int] | None = None) -> str | None:
    notes = []
    if status.get("status") not in (None, "ok"):
        notes.append(f"{status['status']}: {status.get('message', '')}".strip())
    if memory_cells:
        notes.append(f"memory: the {memory_mb} MB limit was reached in cell "
                     + ", ".join(str(i + 1) for i in memory_cells))
    if restored is not None and restored.restored_cells:
        notes.append("cells missing from the submission were put back: " + ", ".join(restored.restored_cells))
    if restored is not None and restored.edited_cells:
        notes.append("edited test cells were restored: " + ", ".join(restored.edited_cells))
    return "; ".join(notes) or None


class _Runner:
    """Where jobs run: local threads each driving one sandbox process, or a Dask cluster."""

    def __init__(self, workers: int, scheduler: str | None):
        self.client = None
        if scheduler:
            from distributed import Client

            self.client = Client(scheduler, timeout=30)
        else:
            self.pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convlab-grade")

    def submit(self, job: dict):
        if self.client is not None:
            return self.client.submit(run_job, job, pure=False)
        return self.pool.submit(run_job, job)

    def as_completed(self, futures):
        if self.client is not None:
            from distributed import as_completed

            return as_completed(futures)
        return cf.as_completed(futures)

    def close(self, cancel: bool = False) -> None:
        if self.client is not None:
            self.client.close()
        else:
            self.pool.shutdown(wait=not cancel, cancel_futures=cancel)


def grade(course_dir, *, workers=None, scheduler=None, timeout=300.0, memory_mb=2048, force=False,
          sandboxed=True) -> int:
    """Autograde `course_dir` (see the module docstring); 0 when the run completed, 2 when the
    sandbox cannot run here (nothing is graded or stored). `sandboxed=False` grades as plain
    nbgrader does, student code with this user's rights, and every report says so."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    course_dir = os.path.abspath(os.fspath(course_dir))
    if not os.path.isdir(course_dir):
        raise ValueError(f"course_dir is not a directory: course_dir={course_dir!r}")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got workers={workers!r}")
    if not timeout > 0:
        raise ValueError(f"timeout must be positive, got timeout={timeout!r}")
    if not memory_mb > 0:
        raise ValueError(f"memory_mb must be positive, got memory_mb={memory_mb!r}")
    console = Console(stderr=True)
    if sandboxed and scheduler is None and not sandbox.available():
        console.print(Text(f"convlab grade: refused, the grading sandbox cannot run here: "
                           f"{sandbox.why_unavailable()}.", style="bold red"))
        return 2
    if not sandboxed:
        console.print(Text(UNSANDBOXED, style="bold red"))

    remove_stale_workdirs()
    cgroup.remove_stale()
    gb = store.open_gradebook(course_dir)
    runner = None
    # References are tiny float64 convolutions: one thread each is ~10x faster than contending
    # for the cores the sandboxes use.
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    graded: list[dict] = []
    try:
        submissions = discover(course_dir)
        sources: dict[str, dict] = {}
        # Per instructor notebook, computed once for all its submissions.
        exercise_names: dict[tuple[str, str], dict[str, str]] = {}
        answers: dict[tuple[str, str], dict] = {}
        for sub in submissions:
            if sub.assignment not in sources:
                sources[sub.assignment] = source_notebooks(course_dir, sub.assignment)
                if sources[sub.assignment]:
                    store.ensure_assignment(gb, sub.assignment, sources[sub.assignment])
                else:
                    console.print(f"[yellow]no source/{sub.assignment}/: its submissions are skipped[/]")
                for name, source in sources[sub.assignment].items():
                    exercise_names[sub.assignment, name] = _exercise_names(source)
                    answers[sub.assignment, name] = score.trusted_answers(source)
        done = store.done_digests(gb)
        todo = [s for s in submissions if sources.get(s.assignment)
                and (force or done.get((s.student, s.assignment)) != s.digest)]
        skipped = len([s for s in submissions if sources.get(s.assignment)]) - len(todo)
        if skipped:
            console.print(f"{skipped} submission(s) already graded (use --force to regrade)")

        pending: dict[int, set[str]] = {}  # submission index -> notebooks still running
        refused: dict[int, str] = {}  # submission index -> why its worker could not sandbox it
        restored_by_key: dict[tuple[int, str], restore.Restored] = {}
        plans: dict[tuple[int, str], verification.Plan] = {}
        flags: dict[tuple[int, str], list] = {}
        jobs: list[dict] = []
        for i, sub in enumerate(todo):
            pending[i] = set()
            for name, source in sources[sub.assignment].items():
                path = os.path.join(sub.path, f"{name}.ipynb")
                if not os.path.isfile(path):
                    reason, message = "missing_notebook", f"{name}.ipynb is missing from the submission"
                elif os.path.getsize(path) > MAX_SUBMISSION_BYTES:
                    reason, message = "invalid_notebook", (
                        f"{name}.ipynb is larger than {MAX_SUBMISSION_BYTES // 2**20} MiB")
                else:
                    try:
                        with open(path, encoding="utf-8") as f:
                            submitted = nbformat.reads(f.read(), as_version=4)
                        restored = restore.restore(submitted, source)
                    except Exception as exc:
                        reason, message = "invalid_notebook", (
                            f"{name}.ipynb could not be read as a notebook ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200] if str(exc) else ''})")
                    else:
                        restored_by_key[(i, name)] = restored
                        plans[(i, name)] = verification.plan(restored.nb, source)
                        plans[(i, name)].seconds = max(5.0, float(timeout) / 3)
                        flags[(i, name)] = review.review_notebook(restored.nb, source)
                        pending[i].add(name)
                        jobs.append({"key": [i, name], "notebook": nbformat.writes(_without_hidden_tests(restored.nb)),
                                     "verify": plans[(i, name)].as_job(), "files": files_beside(sub.path),
                                     "timeout": float(timeout), "memory_mb": int(memory_mb),
                                     "sandboxed": bool(sandboxed)})
                        continue
                zero = score.all_zero(source, reason, message)
                sub.results[name] = {"results": _with_exercises(zero, exercise_names[sub.assignment, name]),
                                     "status": reason,
                                     "comment": message}

        def finish_notebook(i: int, name: str, outcome: dict | None, error: str | None) -> None:
            sub = todo[i]
            restored = restored_by_key[(i, name)]
            if outcome is not None:
                try:
                    results, graded_nb, status = score.score(restored.nb, outcome,
                                                             answers[sub.assignment, name], plans[(i, name)])
                except Exception as exc:  # one unreadable result must not stop the run
                    outcome, error = None, f"scoring failed: {type(exc).__name__}: {exc}"
            if outcome is None:
                error = learner_text.clean(error or "the grading worker failed", learner_text.hidden_parts(restored.nb))[0]
                results = score.all_zero(restored.nb, "worker_error", error)
                graded_nb, status = restored.nb, {"status": "worker_error", "message": error or ""}
            flags_.attach(results, restored.nb, flags[(i, name)] + flags_.runtime_flags(outcome))
            target = os.path.join(course_dir, "autograded", sub.student, sub.assignment)
            report.atomic_write(os.path.join(target, f"{name}.ipynb"), nbformat.writes(graded_nb))
            comment = _comment(status, restored, memory_mb, _memory_errors(graded_nb))
            sub.results[name] = {"results": _with_exercises(results, exercise_names[sub.assignment, name]),
                                 "status": status.get("status"), "comment": comment}
            pending[i].discard(name)

        def finish_submission(i: int) -> None:
            sub = todo[i]
            target = os.path.join(course_dir, "autograded", sub.student, sub.assignment)
            os.makedirs(target, exist_ok=True)
            if sub.timestamp is not None:
                shutil.copyfile(os.path.join(sub.path, "timestamp.txt"), os.path.join(target, "timestamp.txt"))
            for name, info in sub.results.items():
                report.write_feedback(course_dir, sub.student, sub.assignment, name,
                                      info["results"], info["comment"])
            summary = {
                "student": sub.student, "assignment": sub.assignment, "sandboxed": bool(sandboxed),
                "score": sum(r["points"] for info in sub.results.values() for r in info["results"]),
                "max_score": sum(r["max_points"] for info in sub.results.values() for r in info["results"]),
                "notebooks": sub.results,
            }
            store.store_submission(gb, student=sub.student, assignment=sub.assignment, digest=sub.digest,
                                   timestamp=sub.timestamp, notebooks={n: info["results"] for n, info
                                                                       in sub.results.items()},
                                   summary=summary)
            graded.append(summary)

        columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            bar = progress.add_task("grading", total=len(todo))
            for i in range(len(todo)):
                if not pending[i]:
                    finish_submission(i)
                    progress.advance(bar)
            if jobs:
                runner = _Runner(workers, scheduler)
                futures = {}
                for job in jobs:
                    futures[runner.submit(job)] = tuple(job["key"])
                import convlab.checks  # noqa: F401 -- load the verifier while the first notebooks run
                for future in runner.as_completed(list(futures)):
                    i, name = futures[future]
                    try:
                        outcome, error = future.result(), None
                    except sandbox.SandboxUnavailable as exc:  # a worker host without the sandbox: store nothing
                        refused[i] = str(exc)
                        continue
                    except Exception as exc:  # the worker itself failed, not the student's code
                        outcome, error = None, f"{type(exc).__name__}: {exc}"
                    if i in refused:
                        continue
                    finish_notebook(i, name, outcome, error)
                    if not pending[i]:
                        finish_submission(i)
                        progress.advance(bar)

        for i, why in sorted(refused.items()):
            console.print(Text(f"not graded, the worker's sandbox cannot run: {todo[i].student}/"
                               f"{todo[i].assignment}: {why}", style="bold red"))
        report.write_grades_csv(gb, course_dir)
        report.instructor_report(course_dir, store.details(gb))
        if graded:
            report.summary_table(graded, console=Console())
        else:
            Console().print("nothing to grade")
        if not sandboxed:
            Console().print(Text(UNSANDBOXED, style="bold red"))
        return 2 if refused else 0
    except BaseException:
        if runner is not None:
            runner.close(cancel=True)
            sandbox.kill_all()  # local sandboxes; Dask releases its tasks when the client closes
            runner = None
        raise
    finally:
        if runner is not None:
            runner.close()
        gb.close()
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder.grade DIR [options]`, the same as `convlab grade`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.grade")
    parser.add_argument("dir")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--scheduler")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    return grade(args.dir, workers=args.workers, scheduler=args.scheduler, timeout=args.timeout,
                 memory_mb=args.memory_mb, force=args.force)


if __name__ == "__main__":
    sys.exit(main())

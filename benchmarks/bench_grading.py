"""How fast `convlab grade` is against plain nbgrader and against bare notebook execution.

Builds one class of submissions (right, blank and flipped-kernel answers, in turn) and grades
copies of it four ways, each in one run:

1. plain sequential `nbgrader autograde` (no sandbox, one notebook at a time);
2. `convlab grade` (sandbox on, default workers);
3. bare nbclient: each restored notebook executed in this process, one after another;
4. `convlab grade --workers 1`, for the per-notebook overhead of sandbox + trusted scoring;
5. `convlab grade` with the grader's own calls skipped (scores are then zero), for what the
   verification run costs.

Prints seconds per submission for each, the throughput ratio (1)/(2), the overhead ratio (4)/(3)
and the share of throughput the verification run costs, 1 - (5)/(2). Usage: python benchmarks/bench_grading.py [--submissions 20] [--lesson 08_groups_separable] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import bench_term  # noqa: E402
import coursekit as ck  # noqa: E402
import nbformat  # noqa: E402

from autograder.defaults import workers as default_workers  # noqa: E402
from autograder.grading import restore  # noqa: E402
from autograder.grading.grade import grade  # noqa: E402
from autograder.sandbox import bubblewrap as sandbox  # noqa: E402


def build_class(where: Path, submissions: int, lesson: str | None = None) -> tuple[Path, str]:
    """A course of `submissions` (right, blank, wrong in turn) of the test assignment or of `lesson`;
    returns the course and the assignment's name."""
    if lesson is None:
        course, assignment = ck.make_course(where), ck.ASSIGNMENT
        answers = ck.solution_answers(course)
        wrong = {**answers, "corr2d": answers["corr2d"].replace("windows * K", "windows * K.flip(0, 1)")}
    else:
        course, _ = bench_term.build_term(where, 0, [lesson])
        assignment = lesson
        answers = ck.solution_answers(course, assignment)
        wrong = bench_term.answers_for("mistaken", answers)
    kinds = [answers, {}, wrong]
    for i in range(submissions):
        ck.write_submission(course, f"student{i:03d}", kinds[i % len(kinds)], assignment=assignment)
    return course, assignment


def copy_course(course: Path, name: str) -> Path:
    target = course.parent / name
    shutil.copytree(course, target)
    return target


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_nbclient(course: Path, assignment: str) -> None:
    """Execute every restored submission with nbclient in this process, sequentially."""
    from nbclient import NotebookClient

    source = nbformat.read(str(course / "source" / assignment / f"{assignment}.ipynb"), as_version=4)
    for path in sorted((course / "submitted").glob(f"*/{assignment}/{assignment}.ipynb")):
        nb = restore.restore(nbformat.read(str(path), as_version=4), source).nb
        with tempfile.TemporaryDirectory() as tmp:
            NotebookClient(nb, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": tmp}}).execute()


def nbgrader_autograde(course: Path, assignment: str) -> None:
    result = ck.nbgrader(course, "autograde", assignment, "--force", timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader autograde failed:\n{result.stderr[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--keep", help="build the courses here and keep them")
    parser.add_argument("--lesson", help="a lesson of solutions/ (e.g. 08_groups_separable) instead of the "
                        "small test assignment")
    args = parser.parse_args(argv)
    if args.submissions < 1:
        raise SystemExit(f"--submissions must be at least 1, got {args.submissions}")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    where = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="convlab-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    n = args.submissions
    try:
        base, assignment = build_class(where / "base", n, args.lesson)
        print(f"{n} submissions; sandbox: {'bubblewrap' if sandbox.available() else 'NONE'}; "
              f"default workers: {default_workers()}", flush=True)
        t_nbgrader = timed(lambda: nbgrader_autograde(copy_course(base, "nbgrader"), assignment))
        print(f"nbgrader autograde (sequential): {t_nbgrader:7.1f} s  {t_nbgrader / n:5.2f} s/submission", flush=True)
        t_convlab = timed(lambda: grade(copy_course(base, "convlab"), timeout=300))
        print(f"convlab grade (default workers): {t_convlab:7.1f} s  {t_convlab / n:5.2f} s/submission", flush=True)
        t_bare = timed(lambda: bare_nbclient(base, assignment))
        print(f"bare nbclient (sequential):      {t_bare:7.1f} s  {t_bare / n:5.2f} s/notebook", flush=True)
        t_one = timed(lambda: grade(copy_course(base, "convlab1"), workers=1, timeout=300))
        print(f"convlab grade --workers 1:       {t_one:7.1f} s  {t_one / n:5.2f} s/submission", flush=True)
        with mock.patch("autograder.grading.worker.run_verification", lambda job: None):
            t_unverified = timed(lambda: grade(copy_course(base, "unverified"), timeout=300))
        print(f"convlab grade, no verification:  {t_unverified:7.1f} s  {t_unverified / n:5.2f} s/submission",
              flush=True)
        print(f"throughput vs nbgrader autograde: {t_nbgrader / t_convlab:.2f}x (target >= 1.8x)")
        print(f"per-notebook overhead vs bare nbclient: {t_one / t_bare:.2f}x (target <= 1.3x)")
        print(f"throughput the verification run costs: {1 - t_unverified / t_convlab:.0%} (target <= 33%)")
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

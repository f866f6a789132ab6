"""A term at scale: a class of students × every lesson, graded by `convlab grade --scheduler` on a
local Dask cluster of two worker processes.

Each student submits every lesson, in turn right (the solution), blank (the release as it is),
mistaken (every function the solution defines returns 1.5 times its result) or half done (the
first half of the answer cells right, the rest blank). Prints notebooks per hour, the peak memory
of the grading process and of each Dask worker, whether every grade is in the gradebook exactly
once with the expected scores' order (right ≥ half done ≥ blank = 0), and the time and work of a
second run (none: every submission is already graded).

Usage: python benchmarks/bench_term.py [--students 50] [--lessons 01_single_channel,...] [--keep DIR]
"""
from __future__ import annotations

import argparse
import ast
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import coursekit as ck  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

from autograder.authoring.course import new_course  # noqa: E402
from autograder.grading.grade import grade  # noqa: E402

KINDS = ("right", "blank", "mistaken", "half")


def mistaken(source: str) -> str:
    """The answer with each function it defines made to return 1.5 times its result."""
    try:
        names = [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]
    except SyntaxError:
        return source
    wrap = "".join(f"\n_right_{n} = {n}\ndef {n}(*args, **kwargs):\n    return _right_{n}(*args, **kwargs) * 1.5\n"
                   for n in names)
    return source + "\n" + wrap if names else source


def answers_for(kind: str, solution: dict[str, str]) -> dict[str, str]:
    if kind == "right":
        return solution
    if kind == "mistaken":
        return {cell: mistaken(source) for cell, source in solution.items()}
    if kind == "half":
        return dict(list(solution.items())[: len(solution) // 2])
    return {}


def build_term(where: Path, students: int, lessons: list[str]) -> tuple[Path, dict]:
    solutions = where / "solutions"
    for lesson in lessons:
        shutil.copytree(ROOT / "solutions" / lesson, solutions / lesson)
    course = new_course(where / "course", solutions)
    kinds = {}
    for lesson in lessons:
        solution = ck.solution_answers(course, lesson)
        for i in range(students):
            student, kind = f"student{i:03d}", KINDS[i % len(KINDS)]
            ck.write_submission(course, student, answers_for(kind, solution), assignment=lesson)
            kinds[student, lesson] = kind
    return course, kinds


def gradebook_check(course: Path, kinds: dict) -> str:
    """Every submission in the gradebook once, each grade cell scored once, scores in the expected order."""
    problems, totals = [], {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for (student, lesson), kind in kinds.items():
            submission = gb.find_submission(lesson, student)
            cells = [(nb.name, g.name) for nb in submission.notebooks for g in nb.grades]
            if len(cells) != len(set(cells)):
                problems.append(f"{student}/{lesson}: a grade cell scored twice")
            if any(g.auto_score is None for nb in submission.notebooks for g in nb.grades if g.cell.max_score):
                problems.append(f"{student}/{lesson}: an auto-graded cell has no score")
            totals[student, lesson] = submission.score
        stored = sum(len(gb.find_assignment(lesson).submissions) for lesson in {k[1] for k in kinds})
    if stored != len(kinds):
        problems.append(f"{stored} submissions stored, {len(kinds)} made")
    for (student, lesson), kind in kinds.items():
        if kind == "blank" and totals[student, lesson] != 0:
            problems.append(f"{student}/{lesson}: blank scored {totals[student, lesson]}")
    return "; ".join(problems[:10]) or "every grade in the gradebook exactly once"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--lessons", help="comma-separated lesson folders (default: every lesson)")
    parser.add_argument("--keep", help="build the course here and keep it")
    args = parser.parse_args(argv)
    if args.students < 1:
        raise SystemExit(f"--students must be at least 1, got {args.students}")
    lessons = args.lessons.split(",") if args.lessons else sorted(
        p.name for p in (ROOT / "solutions").iterdir() if list(p.glob("*.ipynb")))
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    where = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="convlab-term-"))
    where.mkdir(parents=True, exist_ok=True)
    try:
        course, kinds = build_term(where, args.students, lessons)
        print(f"{args.students} students x {len(lessons)} lessons = {len(kinds)} notebooks", flush=True)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            started = time.perf_counter()
            code = grade(course, scheduler=cluster.scheduler_address)
            first = time.perf_counter() - started
            workers = client.run(peak_mb)
            started = time.perf_counter()
            again = grade(course, scheduler=cluster.scheduler_address)
            second = time.perf_counter() - started
            tasks = sum(1 for t in cluster.scheduler.transition_log
                        if str(t.key).startswith("run_job") and t.finish == "memory")
        print(f"first run: exit {code}, {first:.0f} s, {len(kinds) / first * 3600:.0f} notebooks per hour")
        print(f"peak memory: grader {peak_mb():.0f} MB; Dask workers "
              + ", ".join(f"{mb:.0f} MB" for mb in workers.values()))
        print(f"gradebook: {gradebook_check(course, kinds)}")
        print(f"second run: exit {again}, {second:.1f} s, {tasks - len(kinds)} notebooks run again "
              f"({tasks} grading tasks in all)")
    finally:
        if not args.keep:
            shutil.rmtree(where, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

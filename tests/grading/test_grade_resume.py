"""Grading loses nothing and repeats nothing: a killed `convlab grade` run, started again,
grades exactly the submissions it had not stored; a finished run is skipped; `--force` and a
resubmission regrade."""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import coursekit as ck
import nbformat
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox
from autograder.sandbox import cgroup, process

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

STUDENTS = ["ana", "ben", "cai", "dee"]


def stored(course) -> dict[str, str]:
    """student -> when convlab stored the grade (empty before the first store)."""
    try:
        with sqlite3.connect(course / "gradebook.db", timeout=30) as db:
            return dict(db.execute("SELECT student, graded_at FROM convlab_graded").fetchall())
    except sqlite3.OperationalError:  # the table is not there yet
        return {}


def submission_count(course) -> int:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0]


def test_killed_run_resumes_and_grades_each_submission_exactly_once(tmp_path):
    course = ck.make_course(tmp_path)
    answers = ck.solution_answers(course)
    for student in STUDENTS:
        ck.write_submission(course, student, answers)
    script = Path(sys.executable).parent / "convlab"
    command = [str(script), "grade"] if script.exists() else [sys.executable, "-m", "autograder.cli", "grade"]
    proc = subprocess.Popen([*command, str(course), "--workers", "1", "--timeout", "60"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    deadline = time.monotonic() + 300
    while not stored(course) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = stored(course)
    assert 1 <= len(first) < len(STUDENTS), first
    time.sleep(2)
    # Only this test's own runs are looked at: another grading run may be going on on this host.
    assert process.processes_of_run(proc.pid) == [], "sandboxes of the killed run are still running"

    leftovers = lambda: list(Path(tempfile.gettempdir()).glob(f"convlab-grade-{proc.pid}-*"))  # noqa: E731
    assert grade(course, workers=2, timeout=60) == 0
    assert leftovers() == [], "the killed run's work dirs were not cleaned up"
    assert cgroup.of_run(proc.pid) == [] and cgroup.of_run(os.getpid()) == [], "cgroups were left behind"
    assert process.processes_of_run(os.getpid()) == []
    after = stored(course)
    assert sorted(after) == STUDENTS
    assert all(after[s] == t for s, t in first.items()), "a stored submission was graded again"
    assert submission_count(course) == len(STUDENTS)
    for student in STUDENTS:
        assert ck.scores(course, student) == {"corr2d_visible": 1.0, "corr2d_hidden": 2.0,
                                              "output_shape_test": 1.0}

    # A finished run has nothing left to do.
    assert grade(course, workers=2, timeout=60) == 0
    assert stored(course) == after

    # A resubmission is graded again, and only it.
    path = course / "submitted" / "dee" / "ps1" / "ps1.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "output_shape"]
    nbformat.write(nb, str(path))
    assert grade(course, workers=2, timeout=60) == 0
    resubmitted = stored(course)
    assert resubmitted["dee"] != after["dee"]
    assert all(resubmitted[s] == after[s] for s in STUDENTS if s != "dee")
    assert ck.scores(course, "dee")["output_shape_test"] == 0.0
    assert submission_count(course) == len(STUDENTS)


def test_force_regrades_everything(tmp_path):
    course = ck.make_course(tmp_path)
    ck.write_submission(course, "eve", ck.solution_answers(course))
    assert grade(course, workers=1, timeout=60) == 0
    first = stored(course)
    assert grade(course, workers=1, timeout=60, force=True) == 0
    second = stored(course)
    assert second["eve"] != first["eve"] and submission_count(course) == 1
    assert sum(ck.scores(course, "eve").values()) == 4.0

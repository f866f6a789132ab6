"""A course whose nbgrader_config.py names a PostgreSQL gradebook (`CourseDirectory.db_url`), as
nbgrader advises where several people grade: `convlab grade` writes there, nbgrader's own API and
`nbgrader export` read the same grades, and two runs on different assignments at once lose nothing."""
import csv
import io
import os
import shutil
import subprocess
import sys

import coursekit as ck
import pgkit
import pytest
from nbgrader.api import Gradebook

from autograder.coursedir import CourseDir
from autograder.sandbox import bubblewrap

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(pgkit.why_not() is not None, reason=f"no PostgreSQL server here: {pgkit.why_not()}"),
    pytest.mark.skipif(not bubblewrap.available(), reason=f"no sandbox here: {bubblewrap.why_unavailable()}"),
]
ASSIGNMENTS = ("ps1", "ps2")
FULL, ONLY_SHAPE, NOTHING = 4.0, 1.0, 0.0  # of corr2d_visible 1 + corr2d_hidden 2 + output_shape_test 1


def _two_assignments(where):
    """The fixture's assignment twice: ps1 and ps2."""
    source = where / "source"
    shutil.copytree(ck.FIXTURE / "ps1", source / "ps1")
    shutil.copytree(ck.FIXTURE / "ps1", source / "ps2")
    (source / "ps2" / "ps1.ipynb").rename(source / "ps2" / "ps2.ipynb")
    return ck.make_course(where, source)


def _grade(course, assignment) -> subprocess.Popen:
    """`convlab grade DIR --assignment A` as a user runs it, in its own process."""
    command = [str(ck.Path(sys.executable).parent / "convlab"), "grade", str(course), "--assignment", assignment,
               "--workers", "1", "--timeout", "60"]
    return subprocess.Popen(command, env=ck.user_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    where = tmp_path_factory.mktemp("pg")
    with pgkit.server() as server:
        url = pgkit.create_database(server, "course")
        course = _two_assignments(where)
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
        answers = ck.solution_answers(course, "ps1")
        expected = {}
        for assignment in ASSIGNMENTS:
            for student, given, points in (("ana", answers, FULL), ("ben", ck.flipped(answers), ONLY_SHAPE),
                                           ("cy", {}, NOTHING)):
                ck.write_submission(course, student, given, assignment=assignment)
                expected[student, assignment] = points
        runs = [_grade(course, a) for a in ASSIGNMENTS]  # at once, into one gradebook
        outputs = [run.communicate(timeout=600)[0] for run in runs]
        exported = ck.nbgrader(course, "export", "--to", str(where / "export.csv"))
        with Gradebook(url) as gb:
            stored = {(s.student.id, s.assignment.name): s.score for a in ASSIGNMENTS
                      for s in gb.find_assignment(a).submissions}
        yield {"course": course, "url": url, "codes": [r.returncode for r in runs], "outputs": outputs,
               "expected": expected, "stored": stored, "export": exported, "where": where}


def test_both_runs_complete_and_the_course_keeps_no_sqlite_gradebook(graded):
    assert graded["codes"] == [0, 0], graded["outputs"]
    assert CourseDir(graded["course"]).gradebook_url == graded["url"]
    assert not (graded["course"] / "gradebook.db").exists() or _sqlite_has_no_submissions(graded["course"])


def _sqlite_has_no_submissions(course) -> bool:
    """`convlab new-course` made the default gradebook; nothing was graded into it."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return all(not a.submissions for a in gb.assignments)


def test_nbgraders_api_reads_every_grade_of_both_runs(graded):
    assert graded["stored"] == graded["expected"]


def test_nbgrader_export_reads_the_same_grades(graded):
    assert graded["export"].returncode == 0, graded["export"].stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO((graded["where"] / "export.csv").read_text())))
    assert {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows} == graded["expected"]


def test_every_submission_of_both_runs_has_its_feedback(graded):
    for (student, assignment) in graded["expected"]:
        assert (graded["course"] / "feedback" / student / assignment / f"{assignment}.html").is_file()
    assert os.path.isfile(graded["course"] / "grades.csv")

"""Every lesson under `convlab grade`: the course's own answers earn every point with no flag, and
the forgeries of a determined student earn nothing: blank answers under a check engine replaced
to answer with torch's own results, plus forged records, status and executed notebook."""
import json
import shutil
import sqlite3
from pathlib import Path

import coursekit as ck
import nbformat
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
LESSONS = sorted(path.name for path in SOLUTIONS.iterdir() if any(path.glob("*.ipynb")))

FORGERY = '''
import json, os
from convlab.checks import core, record

def forged(self, fn, case, index, device):
    return core.Run(index, device, output=self.reference(*case.args, **case.kwargs))

core.Exercise.call = forged
core.Exercise.__call__ = lambda self, fn, **kwargs: None
where = os.environ.get("CONVLAB_RECORD_DIR", "records")
os.makedirs(where, exist_ok=True)
for name in ("status.json", "verify-status.json"):
    json.dump({"status": "ok", "executed": list(range(200)), "errored": []}, open(name, "w"))
open("executed.ipynb", "w").write(open("submission.ipynb").read() if os.path.exists("submission.ipynb") else "{}")
'''


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    where = tmp_path_factory.mktemp("forgeries")
    source = where / "source"
    for lesson in LESSONS:
        shutil.copytree(SOLUTIONS / lesson, source / lesson)
    course = ck.make_course(where, source)
    for lesson in LESSONS:
        ck.write_submission(course, "honest", ck.solution_answers(course, lesson), assignment=lesson)
        path = ck.write_submission(course, "forger", {}, assignment=lesson)
        nb = nbformat.read(str(path), as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell(FORGERY))
        nbformat.write(nb, str(path))
    assert grade(course, timeout=120) == 0
    return course


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_forged_engine_and_forged_files_earn_nothing(course, lesson):
    scores = ck.scores(course, "forger", assignment=lesson)
    assert scores and all(points == 0 for points in scores.values()), scores


def _results(course, student, lesson) -> list[dict]:
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("SELECT details FROM convlab_graded WHERE student = ? AND assignment = ?",
                          (student, lesson)).fetchall()
    return json.loads(rows[0][0])["notebooks"][lesson]["results"]


def _reviews(course, student, lesson) -> list[str]:
    return [why for r in _results(course, student, lesson) for why in r["review"]]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_forgery_is_put_back_and_flagged(course, lesson):
    assert any("changed the grader's engine" in why for why in _reviews(course, "forger", lesson))


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_courses_own_answers_earn_every_point_and_no_flag(course, lesson):
    results = _results(course, "honest", lesson)
    assert results and all(r["points"] == r["max_points"] for r in results), \
        [(r["grade_id"], r["message"]) for r in results if r["points"] != r["max_points"]]
    assert not _reviews(course, "honest", lesson)

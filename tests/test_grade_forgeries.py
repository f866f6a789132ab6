"""The forgeries of a determined student earn nothing on real lessons: blank answers under a
check engine replaced to answer with torch's own results, plus forged records, status and
executed notebook written from the kernel, graded by `convlab grade` on lessons 01, 03, 06 and 10."""
import shutil
from pathlib import Path

import nbformat
import pytest

import coursekit as ck
from autograder import sandbox
from autograder.grade import grade

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

LESSONS = ("01_single_channel", "03_channels", "06_pooling", "10_backprop")
SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"

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


def _reviews(course, student, lesson) -> list[str]:
    import json
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("SELECT details FROM convlab_graded WHERE student = ? AND assignment = ?",
                          (student, lesson)).fetchall()
    return [why for r in json.loads(rows[0][0])["notebooks"][lesson]["results"] for why in r["review"]]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_forgery_is_put_back_and_flagged_and_the_honest_answers_are_not(course, lesson):
    assert any("changed the grader's engine" in why for why in _reviews(course, "forger", lesson))
    honest = ck.scores(course, "honest", assignment=lesson)
    assert all(points > 0 for points in honest.values()), honest
    assert not _reviews(course, "honest", lesson)

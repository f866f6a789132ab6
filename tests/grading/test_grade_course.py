"""`convlab grade` on courses that are not exactly what `convlab new-course` makes: a gradebook
that does not know the assignment yet, an unreadable timestamp, an assignment without source,
bad arguments."""
import csv
import shutil

import coursekit as ck
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]


def test_a_course_whose_gradebook_lacks_the_assignment(tmp_path):
    course = ck.make_course(tmp_path)
    (course / "gradebook.db").unlink()
    ck.write_submission(course, "fay", ck.solution_answers(course))
    (course / "submitted" / "fay" / "ps1" / "timestamp.txt").write_text("not a time")
    stray = course / "submitted" / "fay" / "unknown_assignment"
    stray.mkdir()
    shutil.copy(course / "submitted" / "fay" / "ps1" / "ps1.ipynb", stray / "unknown_assignment.ipynb")

    assert grade(course, workers=1, timeout=60) == 0
    assert ck.scores(course, "fay") == {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["assignment"], r["student_id"], r["score"], r["max_score"], r["timestamp"]) for r in rows] == [
        ("ps1", "fay", "4.0", "4.0", "")]
    assert not (course / "autograded" / "fay" / "unknown_assignment").exists()


@pytest.mark.parametrize("kwargs, name", [
    ({"workers": 0}, "workers"), ({"timeout": 0}, "timeout"), ({"memory_mb": -5}, "memory_mb")])
def test_bad_arguments_name_themselves(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        grade(tmp_path, **kwargs)


def test_missing_course_directory_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="course_dir"):
        grade(tmp_path / "nowhere")

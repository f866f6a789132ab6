"""The round trip of an nbgrader deployment on the command line: release to a filesystem exchange,
two students fetch and submit, `nbgrader collect`, `convlab grade`, `nbgrader release_feedback`,
`nbgrader fetch_feedback`. Each student gets back nbgrader's feedback page with their own score,
convlab's verdict per test and no hidden test source. (tests/grading/test_e2e_workflow.py drives the
students' side through JupyterLab.)"""
import coursekit as ck
import nbformat
import pytest

from autograder.grading import learner_text
from autograder.grading.grade import grade

pytestmark = pytest.mark.grading

COURSE_ID = "conv101"


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    where = tmp_path_factory.mktemp("exchange")
    course, opts = ck.exchange_course(where, COURSE_ID)
    answers = ck.solution_answers(course)
    flipped = ck.flipped(answers)
    homes = {}
    for student, given in (("ana", answers), ("ben", flipped)):
        home = homes[student] = where / student
        home.mkdir()
        ck.nbgrader_ok(home, "fetch_assignment", ck.ASSIGNMENT, *opts, user=student)
        path = home / ck.ASSIGNMENT / f"{ck.ASSIGNMENT}.ipynb"
        nbformat.write(ck.fill_answers(nbformat.read(str(path), as_version=4), given), str(path))
        ck.nbgrader_ok(home, "submit", ck.ASSIGNMENT, *opts, user=student)
    ck.nbgrader_ok(course, "collect", ck.ASSIGNMENT, *opts)
    assert grade(course, workers=2, timeout=120) == 0
    ck.nbgrader_ok(course, "release_feedback", ck.ASSIGNMENT, *opts)
    for student, home in homes.items():
        ck.nbgrader_ok(home, "fetch_feedback", ck.ASSIGNMENT, *opts, user=student)
    return course, homes


def fetched_page(home):
    pages = list((home / ck.ASSIGNMENT / "feedback").glob(f"*/{ck.ASSIGNMENT}.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text()


@pytest.mark.parametrize("student, score, verdict", [
    ("ana", "4.0 / 4.0", "convlab grade: passed, 2 / 2 points"),
    ("ben", "1.0 / 4.0", "Likely mistake: kernel flipped"),
])
def test_each_student_fetches_their_own_score_and_convlabs_verdicts(round_trip, student, score, verdict):
    page = fetched_page(round_trip[1][student])
    assert score in page and verdict in page


def test_fetched_feedback_shows_no_hidden_test_source(round_trip):
    course, homes = round_trip
    source = nbformat.read(str(course / "source" / ck.ASSIGNMENT / f"{ck.ASSIGNMENT}.ipynb"), as_version=4)
    hidden = [part for part in learner_text.hidden_parts(source) if len(part) >= 8]
    assert hidden
    for home in homes.values():
        page = fetched_page(home)
        assert not any(part in page for part in hidden)


def test_a_second_grade_leaves_the_released_feedback_alone(round_trip):
    course, _ = round_trip
    pages = sorted((course / "feedback").rglob("*.html"))
    before = {p: p.stat().st_mtime_ns for p in pages}
    assert grade(course, workers=1, timeout=120) == 0  # nothing new: no regrade, no new feedback
    assert {p: p.stat().st_mtime_ns for p in pages} == before

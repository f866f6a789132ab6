"""Late rules: the course's due dates, extensions and late-submission plugin applied by `convlab
grade` exactly as plain `nbgrader autograde` applies them, and said in the report and feedback."""
import datetime as dt
import shutil

import coursekit as ck
import pytest
from nbgrader.api import Gradebook
from traitlets.config import Config

from autograder.coursedir import CourseDir
from autograder.grading import late, store
from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap
from convlab import i18n

pytestmark = pytest.mark.grading
DUE = dt.datetime(2026, 11, 30, 17, 0)
# The course's own plugin, beside its nbgrader_config.py, as nbgrader's documentation shows one:
# one point per hour started, at most the notebook's score.
PER_HOUR = '''
from nbgrader.plugins import LateSubmissionPlugin


class PerHour(LateSubmissionPlugin):
    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return float(-(-total_seconds_late // 3600))
'''
SUBMITTED = {"ana": DUE - dt.timedelta(minutes=5),  # on time
             "ben": DUE + dt.timedelta(hours=2, minutes=10),  # 3 hours started: -3 (of 4)
             "eva": DUE + dt.timedelta(hours=30),  # late by more than her score: all of it
             "kai": DUE + dt.timedelta(hours=20)}  # late, but within his one-day extension


def _gradebook(tmp_path, students):
    """A gradebook with one assignment (due DUE) of one notebook: a 4-point test and its answer."""
    from autograder.interpreter import put_environment_on_path

    put_environment_on_path()  # nbgrader runs alembic from PATH
    gb = store.open_gradebook(CourseDir(tmp_path))
    gb.update_or_create_assignment("ps1", duedate=DUE)
    gb.add_notebook("ps1", "ps1")
    gb.add_grade_cell("test", "ps1", "ps1", max_score=4, cell_type="code")
    gb.add_solution_cell("answer", "ps1", "ps1")
    for student in students:
        gb.add_student(student)
    return gb


def _store(gb, rule, student, points=4.0):
    summary = {"student": student, "assignment": "ps1", "notebooks": {"ps1": {"comment": None, "lang": "en"}}}
    return store.store_submission(gb, student=student, assignment="ps1", digest="d", summary=summary,
                                  timestamp=str(SUBMITTED[student]), late_rule=rule,
                                  notebooks={"ps1": [{"grade_id": "test", "points": points}]})


def _penalty(gb, student) -> float:
    return gb.find_submission("ps1", student).late_submission_penalty


@pytest.mark.parametrize("method, expected", [("none", {"ana": 0, "ben": 0, "eva": 0}),
                                              ("zero", {"ana": 0, "ben": 4, "eva": 4})])
def test_nbgraders_own_methods_none_and_zero(tmp_path, method, expected):
    gb = _gradebook(tmp_path, expected)
    rule = late.rule(Config({"LateSubmissionPlugin": {"penalty_method": method}}))
    with gb:
        said = {student: _store(gb, rule, student) for student in expected}
        assert {s: _penalty(gb, s) for s in expected} == expected
    assert "late" not in said["ana"] and said["ben"]["late"]["seconds_late"] == 2 * 3600 + 600
    assert said["ben"]["late"]["rule"] == f"nbgrader.plugins.latesubmission.LateSubmissionPlugin (penalty_method={method!r})"


def test_an_extension_moves_the_due_date_and_a_regrade_keeps_it(tmp_path):
    gb = _gradebook(tmp_path, ["kai"])
    rule = late.rule(Config({"LateSubmissionPlugin": {"penalty_method": "zero"}}))
    with gb:
        assert _store(gb, rule, "kai")["late"]["penalty"] == {"ps1": 4.0}  # no extension yet
        gb.grant_extension("ps1", "kai", days=1)
        assert "late" not in _store(gb, rule, "kai") and _penalty(gb, "kai") == 0
        gb.grant_extension("ps1", "kai", hours=10)  # 20 h late, 10 h granted: still late
        again = _store(gb, rule, "kai")["late"]
    assert again["extension_seconds"] == 36000 and again["due"] == "2026-12-01 03:00 UTC"


def test_the_learner_reads_how_late_against_which_due_date_and_what_it_cost(tmp_path):
    gb = _gradebook(tmp_path, ["ben"])
    rule = late.rule(Config({"LateSubmissionPlugin": {"penalty_method": "zero"}}))
    with gb:
        gb.add_submission("ps1", "ben")
        gb.grant_extension("ps1", "ben", hours=1)
        said = _store(gb, rule, "ben")["late"]
        comment = gb.find_submission_notebook("ps1", "ps1", "ben").comments[0].auto_comment
    assert comment == ("Submitted 1 h 10 min after the due date (2026-11-30 18:00 UTC). Your due date includes an "
                       "extension of 1 h. The course's late rule deducted 4 point(s) from this notebook.")
    with i18n.in_language("zh"):
        assert "1 小时" in late.comment(said, "ps1") and "扣" in late.comment(said, "ps1")


def test_a_late_rule_that_cannot_be_loaded_is_refused_naming_it():
    with pytest.raises(Exception, match="no_such_module"):
        late.rule(Config({"AssignLatePenalties": {"plugin_class": "no_such_module.Rule"}}))


@pytest.mark.skipif(not bubblewrap.available(), reason=f"no sandbox here: {bubblewrap.why_unavailable()}")
def test_convlab_grade_deducts_exactly_what_plain_nbgrader_autograde_deducts(tmp_path):
    """One class, late by different amounts, one with an extension, under the course's own per-hour
    plugin: `convlab grade` and `nbgrader autograde` on two copies store the same penalties."""
    course = ck.make_course(tmp_path / "ours")
    (course / "late_rules.py").write_text(PER_HOUR)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write('\nc.AssignLatePenalties.plugin_class = "late_rules.PerHour"\n')
    answers = ck.solution_answers(course)
    with Gradebook(CourseDir(course).gradebook_url) as gb:
        gb.update_or_create_assignment("ps1", duedate=DUE)
        for student, when in SUBMITTED.items():
            path = ck.write_submission(course, student, answers if student != "eva" else ck.flipped(answers))
            (path.parent / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
            gb.add_student(student)
            gb.add_submission("ps1", student)
        gb.grant_extension("ps1", "kai", days=1)
    theirs = shutil.copytree(course, tmp_path / "theirs" / "course")

    assert grade(course, workers=2, timeout=60) == 0
    ck.nbgrader_ok(theirs, "autograde", "ps1", "--force")

    def deducted(where):
        with Gradebook(CourseDir(where).gradebook_url) as gb:
            return {s: (gb.find_submission("ps1", s).score, gb.find_submission("ps1", s).late_submission_penalty)
                    for s in SUBMITTED}

    ours = deducted(course)
    assert ours == deducted(theirs)
    assert {s: penalty for s, (_, penalty) in ours.items()} == {"ana": 0, "ben": 3, "eva": ours["eva"][0], "kai": 0}
    report = (course / "grading-report.md").read_text()
    assert "## Late submissions" in report and "late_rules.PerHour" in report
    assert "| ben | ps1 | 2 h 10 min | 2026-11-30 17:00 UTC | none | ps1: 3 |" in report
    page = (course / "feedback" / "ben" / "ps1" / "ps1.html").read_text()
    assert "Late submission penalty (Score: -3.0)" in page and "Submitted 2 h 10 min after the due date" in page

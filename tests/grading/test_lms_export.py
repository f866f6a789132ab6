"""`convlab export --format canvas|moodle|brightspace|csv`: grades as each LMS's documented import reads them."""
import csv
import io

import pytest
from nbgrader.api import Gradebook

from autograder.cli import main
from autograder.grading import lms

pytestmark = pytest.mark.grading
SCORES = {("ana", "ps1"): 3.0, ("ana", "ps2"): 1.5, ("ben", "ps1"): 0.0}  # ben never submitted ps2


@pytest.fixture
def course(tmp_path):
    """A course whose gradebook holds two assignments (4 and 2 points), two students, three submissions."""
    from autograder.interpreter import put_environment_on_path

    put_environment_on_path()  # nbgrader runs alembic from PATH
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        for name, points in (("ps1", 4), ("ps2", 2)):
            gb.update_or_create_assignment(name)
            gb.add_notebook(name, name)
            gb.add_grade_cell("test", name, name, max_score=points, cell_type="code")
            gb.add_solution_cell("answer", name, name)
        for student in ("ana", "ben"):
            gb.add_student(student)
        for (student, assignment), points in SCORES.items():
            gb.add_submission(assignment, student)
            grade = gb.find_grade("test", assignment, assignment, student)
            grade.auto_score = points
        gb.db.commit()
    return tmp_path


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def roster(tmp_path, text: str):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_canvas_has_its_gradebooks_columns_a_points_possible_row_and_the_ids_of_the_roster(course):
    path = roster(course, "username,name,sis_user_id,sis_login_id,section\nana,Ana Li,1001,ali,A\nben,Ben Wu,1002,bwu,B\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        table = rows(lms.export(gb, "canvas", path))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ps1", "ps2"]
    assert table[1][0].strip() == "Points Possible" and table[1][5:] == ["4", "2"]
    assert table[2] == ["Ana Li", "", "1001", "ali", "A", "3", "1.5"]
    assert table[3] == ["Ben Wu", "", "1002", "bwu", "B", "0", ""]  # nothing submitted: left blank, not 0


def test_moodle_maps_by_email_and_brightspace_ends_every_row(course):
    path = roster(course, "username,email,org_defined_id\nana,ana@uni.edu,20067930\nben,ben@uni.edu,20067931\n")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        moodle, brightspace = rows(lms.export(gb, "moodle", path)), rows(lms.export(gb, "brightspace", path))
    assert moodle == [["Email address", "ps1", "ps2"], ["ana@uni.edu", "3", "1.5"], ["ben@uni.edu", "0", ""]]
    assert brightspace[0] == ["OrgDefinedId", "Username", "ps1 Points Grade", "ps2 Points Grade",
                              "End-of-Line Indicator"]
    assert [r[-1] for r in brightspace[1:]] == ["#", "#"] and brightspace[1][:2] == ["20067930", "ana"]


def test_without_a_roster_the_hubs_user_names_are_the_logins(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert rows(lms.export(gb, "canvas"))[2][:4] == ["ana", "", "", "ana"]
        assert rows(lms.export(gb, "moodle"))[0][0] == "Username"


def test_a_student_the_roster_leaves_out_is_refused_by_name(course, capsys):
    path = roster(course, "username,email\nana,ana@uni.edu\n")
    assert main(["export", str(course), "--format", "moodle", "--roster", str(path)]) == 2
    assert "ben" in capsys.readouterr().err
    assert not (course / "grades-moodle.csv").exists()


def test_the_command_writes_each_format_and_csv_is_nbgraders_own(course, capsys):
    for fmt in ("canvas", "moodle", "brightspace", "csv"):
        assert main(["export", str(course), "--format", fmt]) == 0
    assert rows((course / "grades-csv.csv").read_text())[0][:4] == ["assignment", "duedate", "timestamp", "student_id"]
    assert "grades-brightspace.csv" in capsys.readouterr().out


def test_they_are_nbgrader_export_plugins_too(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        lms.BrightspaceExport(to=str(course / "out.csv")).export(gb)
    assert rows((course / "out.csv").read_text())[0][-1] == "End-of-Line Indicator"

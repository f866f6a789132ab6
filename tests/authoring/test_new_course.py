"""`convlab new-course DIR`: the nbgrader layout, the gradebook and the written nbgrader_config.py."""
import shutil
from pathlib import Path

import pytest
from coursekit import FIXTURE, convlab
from traitlets.config import Config, PyFileConfigLoader

from autograder import cell_meta
from autograder.config import SETTINGS

pytestmark = pytest.mark.grading


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("new-course") / "course"
    result = convlab("new-course", str(where), "--solutions", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    assert str(where) in result.stdout
    return where


def load_config(path: Path) -> Config:
    loader = PyFileConfigLoader(path.name, path=str(path.parent))
    return loader.load_config()


def test_layout_holds_config_sources_and_release(course):
    assert (course / "nbgrader_config.py").is_file()
    assert (course / "gradebook.db").is_file()
    for folder in ("source", "release"):
        assert sorted(p.relative_to(course / folder).as_posix()
                      for p in (course / folder).rglob("*") if p.is_file()) == ["ps1/data.csv", "ps1/ps1.ipynb"]
    assert (course / "source/ps1/ps1.ipynb").read_bytes() == (FIXTURE / "ps1/ps1.ipynb").read_bytes()
    released = (course / "release/ps1/ps1.ipynb").read_text()
    assert "BEGIN SOLUTION" not in released and "seed=831" not in released


def test_gradebook_holds_each_assignment_with_its_grade_cells(course):
    from nbgrader.api import Gradebook

    source = cell_meta.read(FIXTURE / "ps1/ps1.ipynb")
    graded = {cell_meta.grade_id(c): cell_meta.points(c) for c in source.cells if cell_meta.points(c)}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert [a.name for a in gradebook.assignments] == ["ps1"]
        assignment = gradebook.find_assignment("ps1")
        assert [nb.name for nb in assignment.notebooks] == ["ps1"]
        cells = {cell.name: cell.max_score for cell in assignment.notebooks[0].grade_cells}
        assert cells == graded
        assert assignment.max_score == cell_meta.total_points(source)


def test_config_file_holds_the_settings_and_follows_the_folder(course, tmp_path):
    config = load_config(course / "nbgrader_config.py")
    assert config.CourseDirectory.root == str(course)
    for section, values in SETTINGS.items():
        for key, value in values.items():
            assert config[section][key] == value, f"{section}.{key}"
    assert config.IgnorePattern.enabled is True  # IgnorePattern is off unless enabled
    moved = tmp_path / "moved"
    shutil.copytree(course, moved)
    assert load_config(moved / "nbgrader_config.py").CourseDirectory.root == str(moved)


def test_nbgrader_reads_the_course(course):
    """nbgrader's own command line, run in DIR, finds the assignment through nbgrader_config.py."""
    from coursekit import nbgrader

    result = nbgrader(course, "db", "assignment", "list")
    assert result.returncode == 0, result.stderr
    assert "ps1" in result.stdout + result.stderr


def test_a_non_empty_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    result = convlab("new-course", str(tmp_path), "--solutions", str(FIXTURE))
    assert result.returncode == 2
    assert "DIR" in result.stderr and "not empty" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_solutions_without_notebooks_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    result = convlab("new-course", str(tmp_path / "course"), "--solutions", str(tmp_path / "empty"))
    assert result.returncode == 2
    assert "solutions" in result.stderr and "empty" in result.stderr
    assert not (tmp_path / "course").exists()


def test_a_failed_release_leaves_no_half_course(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(FIXTURE, solutions)
    path = solutions / "ps1/ps1.ipynb"
    path.write_text(path.read_text().replace("### END SOLUTION", ""))  # unterminated solution
    result = convlab("new-course", str(tmp_path / "course"), "--solutions", str(solutions))
    assert result.returncode == 1
    assert "no end solution statement" in result.stderr.lower()
    assert not (tmp_path / "course").exists()

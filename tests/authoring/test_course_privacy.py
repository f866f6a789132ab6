"""`convlab new-course` makes a course its owner's alone (or a group's to read), and `convlab doctor DIR`
says when a course is open to others."""
import grp
import os
import shutil
import stat
from pathlib import Path

import pytest
from coursekit import FIXTURE, convlab

from autograder import cli
from autograder.authoring.course import new_course
from autograder.sandbox import doctor

pytestmark = pytest.mark.grading


def entries(course: Path) -> list[Path]:
    """The course folder and everything under it (symbolic links aside)."""
    return [course] + [p for p in sorted(course.rglob("*")) if not p.is_symlink()]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("private") / "course"
    result = convlab("new-course", str(where), "--solutions", str(FIXTURE))
    assert result.returncode == 0, result.stderr
    return where


def another_group() -> grp.struct_group:
    """A group this process may give files to, other than its own group where it can: root may pick any."""
    if os.geteuid() == 0:
        others = [g for g in grp.getgrall() if g.gr_gid not in (0, os.getegid())]
        if others:
            return others[0]
    mine = [gid for gid in os.getgroups() if gid != os.getegid()] or [os.getegid()]
    return grp.getgrgid(mine[0])


def test_the_course_is_readable_by_its_owner_only(course):
    found = {path.relative_to(course).as_posix(): mode(path) for path in entries(course)}
    assert {".", "source", "release", "gradebook.db", "nbgrader_config.py", "source/ps1/ps1.ipynb",
            "release/ps1/ps1.ipynb", "release/ps1/data.csv"} <= set(found)
    for path in entries(course):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), f"{path}: {mode(path):04o}"


def test_new_course_leaves_the_umask_as_it_was(tmp_path):
    before = os.umask(0o022)
    try:
        new_course(tmp_path / "course", FIXTURE)
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)


def test_an_empty_folder_given_is_made_private(tmp_path):
    where = tmp_path / "open"
    where.mkdir()
    where.chmod(0o777)
    new_course(where, FIXTURE)
    assert all(mode(path) & 0o077 == 0 for path in entries(where))


def test_a_failed_course_gives_the_folder_back_as_it_was(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(FIXTURE, solutions)
    notebook = solutions / "ps1/ps1.ipynb"
    notebook.write_text(notebook.read_text().replace("### END SOLUTION", ""))  # nbgrader refuses it
    where = tmp_path / "course"
    where.mkdir()
    where.chmod(0o755)
    result = convlab("new-course", str(where), "--solutions", str(solutions))
    assert result.returncode == 1
    assert list(where.iterdir()) == [] and mode(where) == 0o755


def test_group_may_read_the_course_but_not_change_it(tmp_path):
    group = another_group()
    where = tmp_path / "course"
    result = convlab("new-course", str(where), "--solutions", str(FIXTURE), "--group", group.gr_name)
    assert result.returncode == 0, result.stderr
    assert group.gr_name in result.stdout
    for path in entries(where):
        assert path.lstat().st_gid == group.gr_gid, f"{path}: group {path.lstat().st_gid}"
        assert mode(path) == (0o750 if path.is_dir() else 0o640), f"{path}: {mode(path):04o}"


def test_an_unknown_group_is_refused_before_anything_is_made(tmp_path):
    name = "convlab-no-such-group"
    assert name not in {g.gr_name for g in grp.getgrall()}
    result = convlab("new-course", str(tmp_path / "course"), "--solutions", str(FIXTURE), "--group", name)
    assert result.returncode == 2
    assert "--group" in result.stderr and repr(name) in result.stderr
    assert not (tmp_path / "course").exists()


@pytest.fixture
def doctor_without_probes(monkeypatch):
    """`convlab doctor` with the sandbox probes left out: only the course's rows, each on one line."""
    monkeypatch.setattr(doctor, "rows", lambda: ([], True))
    monkeypatch.setenv("COLUMNS", "400")


def test_doctor_finds_a_private_course_private(course, doctor_without_probes, capsys):
    assert cli.main(["doctor", str(course)]) == 0
    out = capsys.readouterr().out
    assert "course privacy" in out and "no access for others" in out and "!!" not in out


def test_doctor_warns_about_a_course_others_can_read(course, tmp_path, doctor_without_probes, capsys):
    opened = tmp_path / "opened"
    shutil.copytree(course, opened)
    for path in entries(opened):
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert cli.main(["doctor", str(opened)]) == 0  # a warning: grading would still run
    out = capsys.readouterr().out.replace("\n", " ")
    assert "!!" in out and "course privacy" in out and "others may read" in out
    assert "chmod -R o-rwx" in out


def test_doctor_refuses_a_course_that_is_not_there(tmp_path, doctor_without_probes, capsys):
    assert cli.main(["doctor", str(tmp_path / "missing")]) == 2
    assert "DIR" in capsys.readouterr().err


def test_doctor_rows_name_each_open_part(course, tmp_path):
    opened = tmp_path / "opened"
    shutil.copytree(course, opened)
    (opened / "gradebook.db").chmod(0o606)
    (opened / "source").chmod(0o701)
    rows = [(found, fine) for what, found, fine in doctor.course_rows(opened) if what == "course privacy"]
    assert all(not fine for _, fine in rows)
    assert sorted(found.split(":")[0] for found, _ in rows) == [str(opened / "gradebook.db"), str(opened / "source")]
    assert any("read/write" in found for found, _ in rows) and any("may enter" in found for found, _ in rows)

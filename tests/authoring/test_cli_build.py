"""`convlab build [--check]` on a copy of a project in a temporary folder, through the real command line."""
import shutil
from pathlib import Path

import nbformat
import pytest
from coursekit import FIXTURE, convlab

from autograder import cell_meta

pytestmark = pytest.mark.grading

REPO = Path(__file__).resolve().parents[2]


def make_project(where: Path) -> Path:
    """A project checkout whose solutions/ is the fixture assignment, with no lessons/ yet."""
    project = where / "project"
    shutil.copytree(FIXTURE, project / "solutions")
    return project


def files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A project after one `convlab build` (module-scoped: each build starts nbgrader)."""
    project = make_project(tmp_path_factory.mktemp("built"))
    result = convlab("build", cwd=project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def project(built, tmp_path) -> Path:
    """A private copy of the built project, free to break."""
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


def test_build_releases_every_lesson_with_its_files(built):
    assert sorted(files(built / "lessons")) == ["ps1/data.csv", "ps1/ps1.ipynb"]
    assert (built / "lessons/ps1/data.csv").read_bytes() == (FIXTURE / "ps1/data.csv").read_bytes()
    source = cell_meta.read(FIXTURE / "ps1/ps1.ipynb")
    lesson = cell_meta.read(built / "lessons/ps1/ps1.ipynb")
    text = (built / "lessons/ps1/ps1.ipynb").read_text()
    # Solutions and hidden tests are gone; the cells and their nbgrader metadata are kept.
    assert "BEGIN SOLUTION" not in text and "unfold(0, kh, 1)" not in text
    assert "BEGIN HIDDEN TESTS" not in text and "seed=831" not in text
    assert [cell_meta.grade_id(c) for c in lesson.cells] == [cell_meta.grade_id(c) for c in source.cells]
    assert cell_meta.total_points(lesson) == cell_meta.total_points(source)
    answers = [c for c in lesson.cells if cell_meta.is_answer_cell(c)]
    assert answers and all("raise NotImplementedError()" in c.source for c in answers)


def test_build_is_deterministic(built, tmp_path):
    again = make_project(tmp_path)
    result = convlab("build", cwd=again)
    assert result.returncode == 0, result.stderr
    assert files(again / "lessons") == files(built / "lessons")


def test_check_passes_when_up_to_date_and_changes_nothing(project):
    before = {p: p.stat().st_mtime_ns for p in (project / "lessons").rglob("*")}
    result = convlab("build", "--check", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p: p.stat().st_mtime_ns for p in (project / "lessons").rglob("*")} == before


def _remove_notebook(project):
    (project / "lessons/ps1/ps1.ipynb").unlink()
    return "missing: ps1/ps1.ipynb"


def _remove_lessons(project):
    shutil.rmtree(project / "lessons")
    return "missing: ps1/ps1.ipynb"


def _extra_notebook(project):
    shutil.copy(project / "lessons/ps1/ps1.ipynb", project / "lessons/ps1/old.ipynb")
    return "extra: ps1/old.ipynb"


def _extra_lesson(project):
    (project / "lessons/99_gone").mkdir()
    shutil.copy(project / "lessons/ps1/ps1.ipynb", project / "lessons/99_gone/99_gone.ipynb")
    return "extra: 99_gone/99_gone.ipynb"


def _edited_solution(project):
    path = project / "solutions/ps1/ps1.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source += "\n\nA sentence added after the last build."
    nbformat.write(nb, str(path))
    return "different: ps1/ps1.ipynb"


def _edited_data(project):
    (project / "solutions/ps1/data.csv").write_text("x,y\n3,4\n")
    return "different: ps1/data.csv"


@pytest.mark.parametrize("make_stale", [
    _remove_notebook, _remove_lessons, _extra_notebook, _extra_lesson, _edited_solution, _edited_data,
], ids=lambda f: f.__name__.strip("_"))
def test_check_reports_stale_lessons_and_changes_nothing(project, make_stale):
    expected = make_stale(project)
    before = files(project / "lessons") if (project / "lessons").exists() else None
    result = convlab("build", "--check", cwd=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stdout.splitlines()
    assert "stale" in result.stderr
    after = files(project / "lessons") if (project / "lessons").exists() else None
    assert after == before


def test_build_repairs_stale_lessons_and_keeps_top_level_files(project, built):
    _extra_lesson(project)
    _extra_notebook(project)
    (project / "lessons/ps1/data.csv").write_text("edited by hand\n")
    (project / "lessons/README.md").write_text("Open a lesson folder.\n")
    result = convlab("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert files(project / "lessons") == {**files(built / "lessons"), "README.md": b"Open a lesson folder.\n"}
    assert convlab("build", "--check", cwd=project).returncode == 0


def test_build_without_solutions_is_an_error(tmp_path):
    result = convlab("build", "--root", str(tmp_path))
    assert result.returncode == 2
    assert "--root" in result.stderr and str(tmp_path) in result.stderr


def test_build_reports_a_notebook_nbgrader_rejects(project):
    path = project / "solutions/ps1/ps1.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("### END SOLUTION", "")  # unterminated solution
    nbformat.write(nb, str(path))
    result = convlab("build", cwd=project)
    assert result.returncode == 1
    assert "ps1" in result.stderr and "no end solution statement" in result.stderr.lower()


def test_build_refuses_a_test_cell_the_grader_cannot_run(project):
    path = project / "solutions/ps1/ps1.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "corr2d_visible")
    # Another import form: the grader would find no call in it, so every learner would score zero.
    cell.source = "from convlab.checks.lesson01 import corr2d as check_corr2d\ncheck_corr2d(corr2d, seed=1, cases=3)"
    nbformat.write(nb, str(path))
    result = convlab("build", cwd=project)
    assert result.returncode == 1
    assert "ps1/ps1.ipynb: test cell 'corr2d_visible'" in result.stderr


@pytest.mark.parametrize("command", ["build", "check", "new-course", "grade"])
def test_every_command_has_help(command):
    result = convlab(command, "--help")
    assert result.returncode == 0 and result.stdout.startswith(f"usage: convlab {command}")


def test_repository_lessons_are_up_to_date():
    """lessons/ in this checkout is what `convlab build` makes from solutions/."""
    if not any((REPO / "solutions").glob("*/*.ipynb")):
        pytest.skip("no solution notebooks in this checkout yet")
    result = convlab("build", "--check", cwd=REPO)
    assert result.returncode == 0, f"run `convlab build`:\n{result.stdout}{result.stderr}"


# ---- the rest of the command line: `convlab grade` parses and delegates ----

@pytest.fixture
def recorded_grade(monkeypatch):
    import autograder.grading.grade as grade_module
    calls = []

    def fake_grade(course_dir, **options):
        calls.append((course_dir, options))
        return 7  # passed through as the exit status

    monkeypatch.setattr(grade_module, "grade", fake_grade)
    return calls


def test_grade_passes_every_option_through(recorded_grade, tmp_path):
    from autograder.cli import main

    (tmp_path / "source" / "ps1").mkdir(parents=True)
    (tmp_path / "source" / "ps2").mkdir()
    status = main(["grade", str(tmp_path), "--workers", "3", "--scheduler", "tcp://10.0.0.1:8786",
                   "--timeout", "60", "--memory-mb", "512", "--force", "--no-sandbox",
                   "--assignment", "ps1", "--assignment", "ps2", "--gpus", "0,1"])
    assert status == 7
    assert recorded_grade == [(tmp_path, {"workers": 3, "scheduler": "tcp://10.0.0.1:8786",
                                          "timeout": 60.0, "memory_mb": 512, "force": True,
                                          "sandbox": "none", "assignments": ("ps1", "ps2"), "gpus": ("0", "1")})]


@pytest.mark.parametrize("args, said", [(["--assignment", "ps9"], "--assignment: no source/ps9/"),
                                        (["--gpus", "0;1"], "--gpus: gpus must be")])
def test_grade_refuses_an_unknown_assignment_or_a_bad_gpu_list(recorded_grade, tmp_path, capsys, args, said):
    from autograder.cli import main

    assert main(["grade", str(tmp_path), *args]) == 2
    assert said in capsys.readouterr().err and recorded_grade == []


@pytest.mark.parametrize("argv,chosen", [(["--sandbox", "bubblewrap"], "bubblewrap"), (["--sandbox", "none"], "none"),
                                         (["--no-sandbox", "--sandbox", "none"], "none")])
def test_grade_takes_a_sandbox_backend_by_name(recorded_grade, tmp_path, argv, chosen):
    from autograder.cli import main

    assert main(["grade", str(tmp_path), *argv]) == 7
    assert recorded_grade[0][1]["sandbox"] == chosen


def test_no_sandbox_and_another_backend_are_refused_together(recorded_grade, tmp_path, capsys):
    from autograder.cli import main

    assert main(["grade", str(tmp_path), "--no-sandbox", "--sandbox", "bubblewrap"]) == 2
    assert "--no-sandbox" in capsys.readouterr().err and recorded_grade == []


def test_grade_leaves_unset_options_to_the_grader(recorded_grade, tmp_path):
    from autograder.cli import main

    assert main(["grade", str(tmp_path)]) == 7
    assert recorded_grade == [(tmp_path, {"force": False})]


@pytest.mark.parametrize("args, named", [
    (["--workers", "0"], "--workers"),
    (["--timeout", "-1"], "--timeout"),
    (["--memory-mb", "lots"], "--memory-mb"),
])
def test_grade_rejects_bad_options(recorded_grade, tmp_path, capsys, args, named):
    from autograder.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["grade", str(tmp_path), *args])
    assert exit_info.value.code == 2 and named in capsys.readouterr().err
    assert recorded_grade == []


def test_grade_of_a_missing_directory_is_an_error(recorded_grade, tmp_path, capsys):
    from autograder.cli import main

    assert main(["grade", str(tmp_path / "nope")]) == 2
    assert "DIR" in capsys.readouterr().err and recorded_grade == []

"""`convlab progress`: points passed of the visible tests and the next exercise, read from saved notebooks."""
import nbformat
import pytest

from autograder.authoring.progress import lesson_progress
from autograder.cli import main

pytestmark = pytest.mark.grading


def _cell(source, grade_id, *, answer=False, points=0, ran=None, error=False):
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade_id": grade_id, "solution": answer, "grade": points > 0, "locked": not answer, "points": points,
        "schema_version": 3, "task": False}})
    cell.execution_count = ran
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue="wrong", traceback=[])]
    return cell


def lesson(path, *, first_ran=None, first_error=False, second_blank=True, second_ran=None, lang=None):
    nb = nbformat.v4.new_notebook(metadata={"convlab": {"lang": lang}} if lang else {})
    nb.cells = [_cell("def f(x):\n    return x", "f", answer=True, ran=first_ran),
                _cell("check.f(f)", "test_f", points=2, ran=first_ran, error=first_error),
                _cell("def g(x):\n    raise NotImplementedError()" if second_blank else "def g(x):\n    return 2 * x",
                      "g", answer=True, ran=second_ran),
                _cell("check.g(g)", "test_g", points=1, ran=second_ran, error=second_blank and second_ran is not None)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.parametrize("kwargs,earned,following", [
    ({}, 0, "not started"),
    ({"first_ran": 1, "second_ran": 2}, 2, "g"),
    ({"first_ran": 1, "first_error": True}, 0, "f"),
    ({"first_ran": 1, "second_ran": 2, "second_blank": False}, 3, "every visible test passes"),
])
def test_a_lessons_progress_is_read_from_its_saved_outputs(tmp_path, kwargs, earned, following):
    progress = lesson_progress(lesson(tmp_path / "01_a/01_a.ipynb", **kwargs), tmp_path)
    assert (progress.path, progress.earned, progress.possible, progress.next) == ("01_a/01_a.ipynb", earned, 3,
                                                                                   following)


def test_the_command_prints_every_lesson_and_the_total_in_the_chosen_language(tmp_path, capsys):
    lesson(tmp_path / "01_a/01_a.ipynb", first_ran=1, second_ran=2)
    lesson(tmp_path / "zh/01_a/01_a.ipynb", lang="zh")
    assert main(["progress", str(tmp_path), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "01_a/01_a.ipynb" in out and "zh/01_a/01_a.ipynb" in out and "2/6" in out
    assert "尚未开始" in out and "总计" in out


def test_a_folder_without_lessons_is_refused_naming_it(tmp_path, capsys):
    assert main(["progress", str(tmp_path)]) == 2
    assert "no lesson notebooks" in capsys.readouterr().err


def test_a_workspace_of_one_edition_is_answered_in_its_language(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CONVLAB_LANG", raising=False)
    lesson(tmp_path / "zh/01_a/01_a.ipynb", lang="zh")
    assert main(["progress", str(tmp_path)]) == 0
    assert "尚未开始" in capsys.readouterr().out

"""From a built wheel, with no checkout: `convlab new-course` (the wheel carries solutions/) and a
learner's `convlab lessons` (it carries lessons/), whose lessons run under plain nbclient in their
own language."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from coursekit import user_environment

from autograder import cli

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[2]
# What building the wheel reads: pyproject.toml's package list and readme, setup.py's solutions/.
PROJECT = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "convlab", "autograder", "solutions", "lessons",
           "jupyter-config")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


def lessons() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built from a copy of the checkout (nothing is written into the checkout),
    without build isolation, so with this environment's setuptools and no download."""
    pytest.importorskip("setuptools", reason="building the wheel without isolation needs setuptools here")
    tmp = tmp_path_factory.mktemp("wheel")
    project = tmp / "project"
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=SKIP)
        else:
            project.mkdir(exist_ok=True)
            shutil.copy2(source, project / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(tmp / "dist"), str(project)],
        capture_output=True, text=True, timeout=300, env=user_environment(),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [built] = (tmp / "dist").glob("convlab-*.whl")
    return built


def test_the_wheel_carries_every_lesson_with_its_translations_and_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "autograder/_solutions/" + p.relative_to(ROOT / "solutions").as_posix()
        for p in (ROOT / "solutions").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts
    }
    assert any(name.endswith(".zh.yml") for name in expected)
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)[:5]}"


def test_the_wheel_carries_the_digits_and_their_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"convlab/datasets/digits.csv.gz", "convlab/datasets/DIGITS_LICENSE.txt"} <= names


def test_new_course_from_the_installed_wheel_holds_every_lesson(wheel, tmp_path):
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:  # a pure-Python wheel installed with --no-deps is this
        archive.extractall(installed)
    work = tmp_path / "elsewhere"  # no checkout here or above: the wheel's copy is the only one
    work.mkdir()
    code = (f"import sys; sys.path.insert(0, {str(installed)!r})\n"
            "import autograder\n"
            f"assert autograder.__file__.startswith({str(installed)!r}), autograder.__file__\n"
            "from autograder.cli import main\n"
            "sys.exit(main(['new-course', 'course']))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True,
                            timeout=600, env=user_environment())
    assert result.returncode == 0, result.stderr[-3000:]
    course = work / "course"
    for folder in ("source", "release"):
        assert sorted(p.name for p in (course / folder).iterdir()) == lessons()
    for name in lessons():
        assert (course / "source" / name / f"{name}.ipynb").read_bytes() == \
            (ROOT / "solutions" / name / f"{name}.ipynb").read_bytes()
        assert (course / "release" / name / f"{name}.ipynb").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted(a.name for a in gradebook.assignments) == lessons()


def test_without_any_solutions_new_course_names_the_flag_to_pass(tmp_path, monkeypatch, capsys):
    from autograder.authoring import course

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "__file__", str(tmp_path / "site" / "autograder" / "cli.py"))
    monkeypatch.setattr(course, "BUNDLED_SOLUTIONS", tmp_path / "site" / "autograder" / "_solutions")
    assert cli.main(["new-course", str(tmp_path / "course")]) == 2
    err = capsys.readouterr().err
    assert "--solutions" in err and "--root" not in err
    assert not (tmp_path / "course").exists()



def test_the_wheel_carries_the_lessons_and_the_labs_settings(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"autograder/_lessons/" + p.relative_to(ROOT / "lessons").as_posix()
                for p in (ROOT / "lessons").rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts}
    assert "autograder/_lessons/zh/01_single_channel/01_single_channel.ipynb" in expected
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)[:5]}"
    assert any(n.endswith(".data/data/share/jupyter/lab/settings/overrides.d/convlab.json") for n in names)


def test_a_learners_lessons_from_the_wheel_run_under_nbclient_in_their_language(wheel, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = (f"import sys; sys.path.insert(0, {str(installed)!r})\n"
            "from autograder.cli import main\nsys.exit(main(['lessons', 'mine']))\n")
    env = {**user_environment(), "PYTHONPATH": str(installed)}
    env.pop("CONVLAB_LANG", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, timeout=300,
                            env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    for edition, word in (("", "not answered yet"), ("zh/", "尚未作答")):
        path = work / "mine" / edition / "01_single_channel/01_single_channel.ipynb"
        nb = nbformat.read(str(path), as_version=4)
        NotebookClient(nb, resources={"metadata": {"path": str(path.parent)}}, kernel_name="python3", timeout=300,
                       allow_errors=True).execute(env=env)
        errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
                  if o.output_type == "error"]
        assert errors and all(o.ename in ("CheckFailed", "NotImplementedError") for o in errors), \
            [(o.ename, o.evalue[:200]) for o in errors]
        said = " ".join(o.evalue for o in errors if o.ename == "CheckFailed")
        assert word in said, said[:500]

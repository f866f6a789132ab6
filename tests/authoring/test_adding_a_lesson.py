"""README's "Adding a lesson", done for real: a toy lesson 99 added to a copy of this project by
the files the section names, built by `convlab build`, and every derived file found changed; so
the section names every file a new lesson touches, and stays true."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from babel.messages.pofile import read_po, write_po

pytestmark = pytest.mark.grading
REPO = Path(__file__).resolve().parents[2]
COPIED = ("solutions", "lessons", "docs", "convlab", "autograder", "README.md", "README.zh.md")

CHECKS = '''"""Checks for lesson 99 (a toy): doubling a tensor."""
from convlab.checks.core import Case, Exercise
from convlab.i18n import N_


class Double(Exercise):
    """double(x): every element of x times two."""

    def make_case(self, draw, i):
        return Case((draw.randn(draw.int(1, 5), draw.int(1, 5), dtype=draw.dtype(i)),))

    def reference(self, x):
        return 2 * x

    def mistakes(self, x):
        yield N_("squared, not doubled: x * 2, not x * x"), x * x


double = Double()
'''
ANSWER = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
TEST = ("from convlab.checks import lesson99 as check\ncheck.double(double)\n"
        "### BEGIN HIDDEN TESTS\ncheck.double(double, seed=99, cases=5)\n### END HIDDEN TESTS")
ZH = {"c0": "# 第 99 课 — 一课玩具\n\n把张量的每个元素乘以二。", "c1": "写出 `double(x)`。"}


def _nbgrader(grade_id: str, **kind) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "locked": not kind.get("solution", False), "schema_version": 3,
                         "solution": False, "grade": False, "task": False, **kind}}


def _notebook(path: Path) -> None:
    cells = [nbformat.v4.new_markdown_cell("# Lesson 99 — A toy lesson\n\nDouble every element of a tensor.",
                                           id="c0"),
             nbformat.v4.new_markdown_cell("Write `double(x)`.", id="c1"),
             nbformat.v4.new_code_cell(ANSWER, id="c2", metadata=_nbgrader("double", solution=True)),
             nbformat.v4.new_code_cell(TEST, id="c3", metadata=_nbgrader("double_test", grade=True, points=1))]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                                         "display_name": "Python 3"}})
    path.parent.mkdir(parents=True)
    nbformat.write(nb, str(path))


def _convlab(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}  # the copy's convlab, lesson 99 and all
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def _translate(project: Path) -> None:
    """The translator's part: the lesson's cells and the new message, in Chinese."""
    path = project / "solutions/99_toy/99_toy.zh.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for cell_id, entry in data["cells"].items():
        entry["text"] = ZH[cell_id]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    po = project / "convlab/locale/zh/LC_MESSAGES/convlab.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if message.id and not message.string:
            message.string = "平方了，而不是加倍：应为 x * 2，而不是 x * x"
    with po.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, include_lineno=False)


def _tree(project: Path) -> dict[str, bytes]:
    return {p.relative_to(project).as_posix(): p.read_bytes() for p in sorted(project.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    project = tmp_path_factory.mktemp("toy") / "project"
    for name in COPIED:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copyfile
        copy(REPO / name, project / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                             if (REPO / name).is_dir() else {}))
    before = _tree(project)
    _notebook(project / "solutions/99_toy/99_toy.ipynb")
    (project / "convlab/checks/lesson99.py").write_text(CHECKS)
    made = _convlab(project, "translations", "--lang", "zh")
    assert made.returncode == 0, made.stdout + made.stderr
    _translate(project)
    built = _convlab(project, "build")
    assert built.returncode == 0, built.stdout + built.stderr
    after = _tree(project)
    changed = sorted(path for path in after if before.get(path) != after[path])
    return project, changed


def test_the_toy_lesson_is_built_in_both_editions_and_listed(added):
    project, _ = added
    assert (project / "lessons/99_toy/99_toy.ipynb").is_file()
    assert "BEGIN SOLUTION" not in (project / "lessons/99_toy/99_toy.ipynb").read_text()
    assert "一课玩具" in (project / "lessons/zh/99_toy/99_toy.ipynb").read_text(encoding="utf-8")
    assert ("| 99 | [A toy lesson](99_toy/99_toy.ipynb) | [一课玩具](zh/99_toy/99_toy.ipynb) |"
            in (project / "lessons/README.md").read_text(encoding="utf-8"))
    assert "`lesson99.double`" in (project / "docs/exercises.md").read_text()


def test_after_the_build_nothing_is_stale_and_the_translation_is_complete(added):
    project, _ = added
    for command in (("build", "--check"), ("translations", "--lang", "zh", "--check")):
        result = _convlab(project, *command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_names_every_file_a_new_lesson_touches(added):
    _, changed = added
    section = (REPO / "README.md").read_text().split("## Adding a lesson")[1].split("\n## ")[0]
    named = {re.sub(r"(?<![\w])99_toy(?![\w])", "NN_topic", path).replace("lesson99", "lessonNN") for path in changed}
    assert "solutions/NN_topic/NN_topic.ipynb" in named, "the toy lesson was not seen"
    for path in sorted(named):
        generated_lesson = re.match(r"lessons/(zh/)?NN_topic/", path)
        name = generated_lesson.group(0) if generated_lesson else f"`{path}`"
        assert name in section, f"'Adding a lesson' does not name {name}"

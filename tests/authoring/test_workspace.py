"""`convlab lessons DIR`: the learner's own copy of the lessons, which a second run never overwrites."""
import json
from pathlib import Path

import pytest

from autograder.authoring import workspace
from autograder.cli import main

pytestmark = pytest.mark.grading
ROOT = Path(__file__).resolve().parents[2]


def notebooks(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.ipynb")}


def test_both_editions_and_the_page_linking_them_are_copied(tmp_path, capsys):
    assert main(["lessons", str(tmp_path / "mine")]) == 0
    assert notebooks(tmp_path / "mine") == notebooks(ROOT / "lessons")
    assert (tmp_path / "mine/README.md").read_text() == (ROOT / "lessons/README.md").read_text()
    files = [p for p in (ROOT / "lessons").rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    assert f"{len(files)} file(s) added" in capsys.readouterr().out


def test_a_second_run_keeps_the_learners_work_and_adds_only_what_is_new(tmp_path, capsys):
    mine = tmp_path / "mine"
    workspace.copy_lessons(mine)
    worked = mine / "01_single_channel/01_single_channel.ipynb"
    worked.write_text(json.dumps({"my": "work"}))
    removed = mine / "zh/12_conv_1d_3d/12_conv_1d_3d.ipynb"
    removed.unlink()  # as if lesson 12 came after the first run
    assert main(["lessons", str(mine)]) == 0
    assert json.loads(worked.read_text()) == {"my": "work"}
    assert removed.read_bytes() == (ROOT / "lessons/zh/12_conv_1d_3d/12_conv_1d_3d.ipynb").read_bytes()
    out = capsys.readouterr().out
    assert "1 file(s) added" in out and "kept as they are" in out and "+ zh/12_conv_1d_3d/12_conv_1d_3d.ipynb" in out


def test_one_edition_comes_with_a_page_of_its_own(tmp_path):
    copied = workspace.copy_lessons(tmp_path / "zh-only", "zh")
    assert notebooks(tmp_path / "zh-only") == {n for n in notebooks(ROOT / "lessons") if n.startswith("zh/")}
    page = (tmp_path / "zh-only/README.md").read_text(encoding="utf-8")
    assert "[通道](zh/03_channels/03_channels.ipynb)" in page and "Channels" not in page
    assert "README.md" in copied.added


@pytest.mark.parametrize("argv,message", [(["--lang", "fr"], "--lang: no edition in 'fr'"), ([], "is a file")])
def test_bad_input_is_refused_naming_the_argument(tmp_path, capsys, argv, message):
    target = tmp_path / "mine"
    if not argv:
        target.write_text("a file, not a folder")
    assert main(["lessons", str(target), *argv]) == 2
    assert message in capsys.readouterr().err

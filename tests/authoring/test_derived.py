"""The documents derived from the code (`autograder.authoring.derived`): this checkout's are what
the code renders, and `convlab build` keeps the author's text around the derived part."""
import shutil
from pathlib import Path

import pytest

from autograder import defaults
from autograder.authoring import derived

pytestmark = pytest.mark.grading
REPO = Path(__file__).resolve().parents[2]


def test_every_derived_document_is_kept_here_and_is_up_to_date():
    assert [d.path for d in derived.DERIVED if not derived.applies(REPO, d)] == []
    assert derived.stale(REPO) == [], "run `convlab build`"


@pytest.fixture
def readmes(tmp_path) -> Path:
    for name in ("README.md", "README.zh.md"):
        shutil.copyfile(REPO / name, tmp_path / name)
    return tmp_path


def test_a_changed_limit_makes_both_readmes_stale_and_build_writes_only_the_table(readmes, monkeypatch):
    before = (readmes / "README.md").read_text()
    monkeypatch.setattr(defaults, "MEMORY_MB", 4096)
    assert derived.stale(readmes) == ["README.md", "README.zh.md"]
    assert derived.write(readmes) == ["README.md", "README.zh.md"]
    after = (readmes / "README.md").read_text()
    assert "| memory per process | 4096 MB |" in after and "| 每个进程的内存 | 4096 MB |" in (readmes / "README.zh.md").read_text()
    head, tail = before.split("<!-- limits -->")[0], before.split("<!-- /limits -->")[1]
    assert after.startswith(head) and after.endswith(tail)
    assert derived.stale(readmes) == []


def test_the_readme_table_holds_what_the_sandbox_and_settings_use():
    from autograder.grading.protocol import Settings
    from autograder.sandbox import Limits

    limits, settings = Limits(), Settings()
    table = (REPO / "README.md").read_text()
    assert f"| memory per process | {limits.memory_mb} MB |" in table and settings.memory_mb == limits.memory_mb
    assert f"| wall time per notebook | {settings.timeout:g} s |" in table
    assert f"| work dir in all | {limits.disk_mb} MB |" in table and f"| processes and threads | {limits.nproc} |" in table


def test_a_page_with_its_markers_twice_is_refused(readmes):
    page = readmes / "README.md"
    page.write_text(page.read_text() + "\n<!-- limits -->\n<!-- /limits -->\n")
    with pytest.raises(ValueError, match="README.md: expected one <!-- limits -->"):
        derived.stale(readmes)


def test_a_project_without_the_pages_keeps_none_of_them(tmp_path):
    (tmp_path / "README.md").write_text("# A course of my own\n")
    assert derived.stale(tmp_path) == [] and derived.write(tmp_path) == []
    assert (tmp_path / "README.md").read_text() == "# A course of my own\n"


def test_a_lessons_title_comes_from_its_heading_in_each_edition():
    notebook = REPO / "solutions/03_channels/03_channels.ipynb"
    assert derived._title(notebook, "en") == "Channels"
    assert derived._title(notebook, "zh") == "通道"

"""`convlab lessons DIR [--lang LANG]`: the learner's own copy of the lessons, outside the repository.

A learner's work then lives in a folder of theirs: a `git pull` of the course never meets it, and
running the command again adds only what is new (a lesson added upstream), never touching a file
that is already there. The lessons come from this checkout's `lessons/`, else from the copy
installed with the package (a wheel carries them as `autograder/_lessons/`).
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from convlab.i18n import LANGUAGES

BUNDLED_LESSONS = Path(__file__).resolve().parents[1] / "_lessons"
SKIP = (".ipynb_checkpoints", "__pycache__")
LAUNCHER = "README.md"


class WorkspaceError(ValueError):
    """The lessons cannot be copied: the message says why."""


@dataclass
class Copied:
    added: list[str] = field(default_factory=list)  # paths relative to the workspace
    kept: list[str] = field(default_factory=list)  # already there: the learner's, left as they are


def learner_lessons() -> Path:
    """The lessons to copy: the checkout's `lessons/` (this package run from a checkout), else the
    copy installed with it."""
    checkout = Path(__file__).resolve().parents[2] / "lessons"
    for candidate in (checkout, BUNDLED_LESSONS):
        if (candidate / LAUNCHER).is_file():
            return candidate
    raise WorkspaceError("no lessons found: neither a checkout's lessons/ nor the copy a wheel installs")


def _edition_files(lessons: Path, lang: str) -> list[Path]:
    """The files of one edition, relative to `lessons` (the English one at the top, the others in `zh/`…)."""
    top = lessons if lang == "en" else lessons / lang
    found = []
    for path in sorted(top.rglob("*")):
        relative = path.relative_to(lessons)
        if not path.is_file() or any(part in SKIP for part in relative.parts) or relative.name == LAUNCHER:
            continue
        if lang == "en" and relative.parts[0] in LANGUAGES:
            continue  # another edition's folder
        found.append(relative)
    return found


def title(text: str, fallback: str) -> str:
    """A lesson's title from its first cell's text: "# Lesson 01 — Title" gives "Title"."""
    line = next((line for line in text.splitlines() if line.startswith("#")), fallback)
    return re.split(r"\s+[—-]\s+", line.lstrip("# ").strip(), maxsplit=1)[-1]


def heading(notebook: Path) -> str:
    """A lesson notebook's title (see `title`)."""
    return title(nbformat.read(str(notebook), as_version=4).cells[0].source, notebook.stem)


def launcher(lessons: Path, lang: str) -> str:
    """The page a workspace of one edition opens on: its lessons, linked."""
    top = lessons if lang == "en" else lessons / lang
    title = "convlab — lessons" if lang == "en" else "convlab — 课程"
    where = ("Where you stand in every lesson: `convlab progress` in a terminal." if lang == "en"
             else "每一课的进度：在终端中运行 `convlab progress`。")
    rows = [f"- {path.parent.name[:2]} · [{heading(path)}]({path.relative_to(lessons).as_posix()})"
            for path in sorted(top.glob("*/*.ipynb"))]
    return "\n".join([f"# {title}", "", *rows, "", where, ""])


def copy_lessons(dest: Path, lang: str | None = None) -> Copied:
    """Add to `dest` the lessons it lacks: both editions and the page linking them, or one edition
    (`lang`) and a page of its own. A file already in `dest` is kept as it is."""
    if lang is not None and lang not in LANGUAGES:
        raise WorkspaceError(f"--lang: no edition in {lang!r}; choose one of {', '.join(LANGUAGES)}")
    lessons = learner_lessons()
    if dest.exists() and not dest.is_dir():
        raise WorkspaceError(f"DIR: {str(dest)!r} is a file, not a folder")
    copied = Copied()
    for edition in ([lang] if lang else LANGUAGES):
        for relative in _edition_files(lessons, edition):
            _add(lessons / relative, dest / relative, relative.as_posix(), copied)
    page = dest / LAUNCHER
    if page.exists():
        copied.kept.append(LAUNCHER)
    else:
        dest.mkdir(parents=True, exist_ok=True)
        page.write_text((lessons / LAUNCHER).read_text(encoding="utf-8") if lang is None else launcher(lessons, lang),
                        encoding="utf-8")
        copied.added.append(LAUNCHER)
    return copied


def _add(source: Path, target: Path, name: str, copied: Copied) -> None:
    if target.exists():
        copied.kept.append(name)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    copied.added.append(name)

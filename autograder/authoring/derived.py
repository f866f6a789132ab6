"""The documents derived from the code, which `convlab build` writes and `convlab build --check`
holds equal: `docs/exercises.md` (from the check registry), the table of lessons in
`lessons/README.md` (from `solutions/` and its translations) and the table of limits in both
READMEs (from `autograder.defaults`). A part of a hand-written page sits between two markers,
`<!-- NAME -->` and `<!-- /NAME -->`; the rest of the page is the author's. A project kept
elsewhere (a course of one's own) keeps only those of these files it has: a page without the
markers, or a file that is not there, is its author's alone (this checkout's test holds that every
one applies here)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import defaults
from autograder.authoring import translations
from autograder.authoring.build import assignment_names
from autograder.authoring.workspace import title


@dataclass(frozen=True)
class Derived:
    path: str  # relative to the project's root
    marker: str | None  # the part between its markers; None: the whole file
    render: Callable[[Path], str]  # the project's root -> the text


def _exercises(root: Path) -> str:
    from convlab.checks import registry  # the checks need torch: only this document does
    from convlab.checks.exercise_docs import render

    return render(registry.entries(), registry.questions())


def _title(notebook: Path, lang: str) -> str:
    """A lesson's title in `lang`: its first cell's heading, in the English or its translation."""
    first = nbformat.read(str(notebook), as_version=4).cells[0]
    text = first.source
    if lang != "en":
        text = translations.load(translations.translation_path(notebook, lang)).get(first.get("id"), {}).get("text",
                                                                                                              text)
    return title(text, notebook.stem)


def _lessons(root: Path) -> str:
    lines = ["| | English | 简体中文 |", "|---|---|---|"]
    for name in assignment_names(root / "solutions"):
        notebook = root / "solutions" / name / f"{name}.ipynb"
        lines.append(f"| {name[:2]} | [{_title(notebook, 'en')}]({name}/{name}.ipynb) "
                     f"| [{_title(notebook, 'zh')}](zh/{name}/{name}.ipynb) |")
    return "\n".join(lines)


DERIVED = [
    Derived("docs/exercises.md", None, _exercises),
    Derived("lessons/README.md", "lessons", _lessons),
    Derived("README.md", "limits", lambda root: defaults.table("en")),
    Derived("README.zh.md", "limits", lambda root: defaults.table("zh")),
]


def _with_part(page: str, marker: str, part: str, path: str) -> str:
    begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    if page.count(begin) != 1 or page.count(end) != 1:
        raise ValueError(f"{path}: expected one {begin} and one {end} around the derived part")
    head, rest = page.split(begin)
    return f"{head}{begin}\n{part}\n{end}{rest.split(end)[1]}"


def expected(root: Path, derived: Derived) -> str:
    """What `derived`'s file should hold now."""
    text = derived.render(root)
    if derived.marker is None:
        return text
    return _with_part((root / derived.path).read_text(encoding="utf-8"), derived.marker, text, derived.path)


def applies(root: Path, derived: Derived) -> bool:
    """Whether the project at `root` keeps `derived`: it has the file, and the markers if any."""
    path = root / derived.path
    if not path.is_file():
        return False
    return derived.marker is None or f"<!-- {derived.marker} -->" in path.read_text(encoding="utf-8")


def stale(root: Path) -> list[str]:
    """The derived documents of the project at `root` that differ from what the code renders."""
    return [d.path for d in DERIVED
            if applies(root, d) and (root / d.path).read_text(encoding="utf-8") != expected(root, d)]


def write(root: Path) -> list[str]:
    """Write every derived document that changed; returns their paths."""
    changed = stale(root)
    for derived in DERIVED:
        if derived.path in changed:
            (root / derived.path).write_text(expected(root, derived), encoding="utf-8")
    return changed

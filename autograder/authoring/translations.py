"""Second editions of the lessons: the instructor's notebooks with their words in another language.

A lesson's translation lives beside it, `solutions/NN_topic/NN_topic.<lang>.yml`, one entry per cell
id: the fingerprint of the English the translation was made from, and the translated source.
Markdown cells are replaced whole; in code cells only comments and display strings may differ
(`display_text`: what a cell prints and the titles of its figures; the code, its other strings,
nbgrader's markers and the metadata stay the instructor's), so both editions run and grade alike.
A cell whose English changed since (stale), a cell without a translation, or a translation that
changed code is refused, naming the cell.
"""
from __future__ import annotations

import copy
import hashlib
import io
import re
import shutil
import tokenize
from pathlib import Path

import nbformat
import yaml

from autograder.authoring import display_text

LANGUAGES = {"zh": "简体中文"}
#: nbgrader's region markers: kept word for word, or nbgrader could not find the regions.
_MARKER = re.compile(r"(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)|YOUR (CODE|ANSWER) HERE")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDS = re.compile(r"[A-Za-z]{3,}")


class TranslationError(ValueError):
    """A translation file that cannot be read, or a language the course has no edition in."""


def check_language(lang: str) -> str:
    if lang != "en" and lang not in LANGUAGES:
        raise TranslationError(f"lang: no edition in {lang!r}; choose en or one of {', '.join(LANGUAGES)}")
    return lang


def translation_path(notebook: Path, lang: str) -> Path:
    return notebook.with_name(f"{notebook.stem}.{lang}.yml")


def fingerprint(source: str) -> str:
    """What a translation records of the English it was made from."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    """A code cell's tokens, or None when it does not tokenise (IPython syntax aside)."""
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _comments(source: str) -> list[str] | None:
    tokens = _tokens(source)
    return None if tokens is None else [t.string for t in tokens if t.type == tokenize.COMMENT]


def _code(source: str) -> list[tuple] | None:
    """What a translation must leave alone of a code cell: its tokens but comments and the words of
    its display strings."""
    return display_text.code_tokens(source)


def needs_translation(cell) -> bool:
    """Markdown with words, or code with a comment in words that is no nbgrader marker, or with a
    display string in English (what it prints, the titles of its figures: `display_text`)."""
    if cell.cell_type == "markdown":
        return bool(_WORDS.search(cell.source))
    if cell.cell_type != "code":
        return False
    return any(_WORDS.search(c) and not _MARKER.search(c) for c in _comments(cell.source) or []) \
        or bool(display_text.english_in_code(cell.source))


def load(path: Path) -> dict[str, dict]:
    """The entries of a translation file, by cell id; {} when there is none."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise TranslationError(f"{path}: not valid YAML: {exc}") from exc
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, dict):
        raise TranslationError(f"{path}: expected a mapping 'cells: {{cell id: {{en: ..., text: ...}}}}'")
    return cells


def _refusal(cell, entry) -> str | None:
    """Why `entry` cannot stand for `cell`, or None when it can."""
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        return "has no translation"
    if entry.get("en") != fingerprint(cell.source):
        return "is stale: its English changed since it was translated"
    text = entry["text"].rstrip("\n")  # a YAML block ends with a newline, a cell's source does not
    if _MARKER.findall(text) != _MARKER.findall(cell.source):
        return "changes nbgrader's markers"
    if cell.cell_type == "markdown":
        if not _CJK.search(text):
            return "is still in English"
        left = display_text.english_in_markdown(text)
        return f"keeps English prose: {left[0]!r}" if left else None
    if _code(text) is None or _code(text) != _code(cell.source):
        return "changes code, not only comments and display strings"
    left = display_text.english_in_code(text)
    return f"prints or draws English: {', '.join(left[:6])}" if left else None


def translate(nb, entries: dict[str, dict], lang: str, where: str) -> tuple[object, list[str]]:
    """`nb` in `lang`, with one line per cell that could not be translated (the cell stays English)."""
    out = copy.deepcopy(nb)
    problems = []
    for cell in out.cells:
        if not needs_translation(cell):
            continue
        reason = _refusal(cell, entries.get(cell.get("id")))
        if reason is None:
            cell.source = entries[cell.id]["text"].rstrip("\n")
        else:
            problems.append(f"{where}: cell {cell.get('id')!r} {reason}")
    known = {cell.get("id") for cell in nb.cells}
    problems += [f"{where}: cell {key!r} is translated but no longer in the notebook" for key in entries
                 if key not in known]
    out.metadata.setdefault("convlab", {})["lang"] = lang
    return out, problems


def translated_solutions(solutions: Path, dest: Path, lang: str, names: list[str]) -> list[str]:
    """Write each assignment folder of `solutions` into `dest` in `lang`; returns the problems."""
    problems = []
    for name in names:
        shutil.copytree(solutions / name, dest / name, ignore=shutil.ignore_patterns("*.yml"))
        for path in sorted((solutions / name).glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            entries = load(translation_path(path, lang))
            translated, found = translate(nb, entries, lang, f"{name}/{translation_path(path, lang).name}")
            problems += found
            nbformat.write(translated, str(dest / name / path.name))
    return problems


def problems(notebook: Path, lang: str) -> list[str]:
    """What keeps the translation of `notebook` into `lang` out of the edition, a line per cell."""
    nb = nbformat.read(str(notebook), as_version=4)
    path = translation_path(notebook, lang)
    return translate(nb, load(path), lang, path.name)[1]


def skeleton(notebook: Path, lang: str) -> int:
    """Add an entry for each cell of `notebook` its translation lacks or has stale (its text the
    English, for the translator to replace; the old translation kept as `was`); returns how many."""
    path = translation_path(notebook, lang)
    entries = load(path)
    nb = nbformat.read(str(notebook), as_version=4)
    added = 0
    for cell in filter(needs_translation, nb.cells):
        entry = entries.get(cell.id)
        if isinstance(entry, dict) and entry.get("en") == fingerprint(cell.source):
            continue  # translated from this English (done or under way)
        fresh = {"en": fingerprint(cell.source), "text": cell.source}
        if isinstance(entry, dict) and isinstance(entry.get("text"), str):
            fresh["was"] = entry["text"]
        entries[cell.id] = fresh
        added += 1
    if added or not path.exists():  # a complete translation is left as its translator wrote it
        write(path, notebook.stem, lang, entries)
    return added


class _Block(str):
    """Written as a YAML block scalar (`|`), readable and diffable line by line."""


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, writing `_Block`s as blocks (PyYAML's own dumper left as it is)."""


_Dumper.add_representer(_Block, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|"))


def write(path: Path, lesson: str, lang: str, entries: dict[str, dict]) -> None:
    cells = {key: {k: _Block(v.rstrip("\n") + "\n") if k != "en" else v for k, v in entry.items()}
             for key, entry in entries.items()}
    header = (f"# {LANGUAGES[lang]} edition of {lesson}.ipynb: per cell id, the fingerprint of the English\n"
              f"# translated (en) and its translation (text). `convlab translations --lang {lang}` adds what is\n"
              "# missing or stale; docs/glossary.zh.md gives the terms.\n")
    body = yaml.dump({"lesson": lesson, "lang": lang, "cells": cells}, Dumper=_Dumper, allow_unicode=True,
                     sort_keys=False, width=1000)
    path.write_text(header + body, encoding="utf-8")


def translated(lesson: Path, lang: str) -> bool:
    """Whether the lesson folder has a translation into `lang` (the edition holds those that do)."""
    return any(translation_path(p, lang).exists() for p in lesson.glob("*.ipynb"))

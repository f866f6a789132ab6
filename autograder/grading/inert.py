"""What a learner's outputs and cells may show in a rendered page: the autograded notebook made inert.

nbgrader's feedback page and formgrader render `autograded/` with nbconvert, which puts HTML,
Markdown, SVG, LaTeX and JavaScript outputs into the page as markup or script, the raw HTML of a
Markdown cell as it is, and an image's width unquoted into its tag. Every output is the learner's
(the instructor's cells ran in the learner's kernel too), and so is every text cell whose text the
instructor did not write. Before the graded notebook is written:

- outputs keep `text/plain`, PNG and JPEG (base64, drawn by the browser as pictures) with their
  numeric sizes; every other type is dropped, and an output left with none shows the first one's
  source as plain text. Streams and errors stay as text (nbconvert escapes them);
- a Markdown or raw cell whose text is not one of the instructor's text cells in `source/` shows
  its text in a code block, as typed, without its attachments; an instructor's text cell keeps
  its rendering and takes its attachments from `source/`.

The grader's own verdicts are added after this (`report.with_verdicts`).
"""
from __future__ import annotations

import json
import re

import nbformat
from nbformat import NotebookNode

from autograder import cell_meta

# What a page draws from an output without running or parsing the learner's markup.
SHOWN = ("text/plain", "image/png", "image/jpeg")
IMAGES = ("image/png", "image/jpeg")
STREAMS = ("stdout", "stderr")


def for_pages(graded: NotebookNode, source: NotebookNode) -> NotebookNode:
    """`graded` as a page may show it (see the module docstring); `source` is the instructor's notebook."""
    graded = nbformat.from_dict(graded)  # a copy, NotebookNodes throughout: the verdict keeps its own
    instructors = _instructors_text_cells(source)
    for index, cell in enumerate(graded.cells):
        if cell.cell_type == "code":
            cell.outputs = [kept for kept in map(_output, cell.get("outputs", [])) if kept is not None]
            cell.execution_count = _count(cell.get("execution_count"))
        else:
            graded.cells[index] = _text_cell(cell, instructors)
    return graded


def _instructors_text_cells(source: NotebookNode) -> dict[tuple[str, str], NotebookNode]:
    """(cell type, text) -> the instructor's Markdown or raw cell; answers are the learner's, not listed."""
    found = {}
    for cell in source.cells:
        if cell.cell_type in ("markdown", "raw") and not cell_meta.nbgrader_meta(cell).get("solution"):
            found.setdefault((cell.cell_type, cell.source), cell)
    return found


def _text_cell(cell: NotebookNode, instructors: dict) -> NotebookNode:
    """The instructor's text cell with the instructor's attachments; any other as text in a code block."""
    text = cell.get("source") if isinstance(cell.get("source"), str) else ""
    theirs = instructors.get((cell.cell_type, text))
    cell.pop("attachments", None)
    if theirs is not None:
        if theirs.get("attachments"):
            cell.attachments = theirs.attachments
        return cell
    shown = nbformat.v4.new_markdown_cell(as_code_block(text), metadata=cell.get("metadata", {}))
    shown.id = cell.get("id", shown.id)
    return shown


def as_code_block(text: str) -> str:
    """Markdown showing `text` verbatim: a fence longer than any run of backticks in it (so no line
    closes it) and no info string (which would pick a highlighter, or mermaid's renderer)."""
    if not text.strip():
        return ""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}\n{text}\n{fence}"


def _output(output) -> NotebookNode | None:
    """The output rebuilt from the fields a page shows, each of the type nbformat gives it; None to drop it."""
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream":
        name, text = output.get("name"), _text(output.get("text"))
        return nbformat.v4.new_output("stream", name=name, text=text) if name in STREAMS and text else None
    if kind == "error":
        lines = output.get("traceback") if isinstance(output.get("traceback"), list) else []
        return nbformat.v4.new_output("error", ename=_text(output.get("ename")), evalue=_text(output.get("evalue")),
                                      traceback=[_text(line) for line in lines])
    if kind in ("display_data", "execute_result"):
        data = _data(output.get("data"))
        if not data:
            return None
        shown = nbformat.v4.new_output(kind, data=data, metadata=_sizes(output.get("metadata"), data))
        if kind == "execute_result":
            shown.execution_count = _count(output.get("execution_count"))
        return shown
    return None


def _data(data) -> dict[str, str]:
    """The SHOWN types of a display's data; with none of them, the first type's source as plain text."""
    if not isinstance(data, dict):
        return {}
    kept = {mime: _text(data[mime]) for mime in SHOWN if mime in data}
    if not kept and data:
        value = next(iter(data.values()))
        kept["text/plain"] = value if isinstance(value, str) else json.dumps(value, default=str)
    return kept


#: The longest image description kept (a figure's says what it shows in a sentence or three).
MAX_ALT = 600


def _sizes(metadata, data: dict) -> dict:
    """An image's width and height, when they are numbers (the page writes them unquoted into its
    tag), and its description (`alt`, plain text the page escapes) for a screen reader."""
    sizes = {}
    for mime in IMAGES:
        given = metadata.get(mime) if isinstance(metadata, dict) and mime in data else None
        given = given if isinstance(given, dict) else {}
        kept = {key: value for key, value in given.items()
                if key in ("width", "height") and type(value) in (int, float) and value > 0}
        if isinstance(given.get("alt"), str):
            kept["alt"] = "".join(c for c in given["alt"] if c.isprintable())[:MAX_ALT]
        if kept:
            sizes[mime] = kept
    return sizes


def _text(value) -> str:
    """A string field: nbformat's string or list of lines, anything else as its repr."""
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return value if isinstance(value, str) else ("" if value is None else repr(value))


def _count(value) -> int | None:
    """An execution count, which the page writes unescaped into its prompt: an int, or none."""
    return value if type(value) is int else None

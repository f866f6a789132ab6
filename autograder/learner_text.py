"""Text that came from a submission, made safe to show: one short line, no hidden test in it.

A learner's code can raise or print anything it can read at grading time, including its own
restored notebook with the hidden tests (`In[-1]`). Whatever such text reaches the learner's
feedback, the report, the gradebook or the terminal first passes `clean`: it keeps one line of
at most `LIMIT` characters and replaces every hidden-test line, and every number or string
literal of a hidden test (seeds, case counts, expected answers), with `…`. Escaping for HTML,
Markdown and rich markup is done where the text is written (`autograder.report`).

Text encoded by the learner (reversed, base64) cannot be recognised; the short limit bounds
what it can carry, and `clean` reports that it removed something so the grader can flag it.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize

from nbformat import NotebookNode

from autograder import notebook as nbmeta

LIMIT = 200
HIDDEN = "…"
_MIN_LINE = 8  # shorter hidden lines ("pass", "])") are not worth hiding and would garble text
_MIN_NUMBER = 3  # digits: a seed or a count like 1101; a single digit is everywhere in shapes


def hidden_parts(nb: NotebookNode) -> list[str]:
    """The hidden tests' lines and literals of an instructor's (or restored) notebook, longest first."""
    parts: set[str] = set()
    for cell in nb.cells:
        if not nbmeta.has_hidden_tests(cell):
            continue
        for region in _hidden_regions(cell.source):
            parts.update(line.strip() for line in region.splitlines() if len(line.strip()) >= _MIN_LINE)
            parts.update(_literals(region))
    return sorted(parts, key=len, reverse=True)


def _hidden_regions(source: str) -> list[str]:
    pattern = rf"{re.escape(nbmeta.BEGIN_HIDDEN)}(.*?)(?:{re.escape(nbmeta.END_HIDDEN)}|\Z)"
    return re.findall(pattern, source, flags=re.S)


def _literals(source: str) -> set[str]:
    """Numbers of at least _MIN_NUMBER digits and string contents of at least 3 characters."""
    found: set[str] = set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = []
    for token in tokens:
        if token.type == tokenize.NUMBER and len(re.sub(r"\D", "", token.string)) >= _MIN_NUMBER:
            found.add(token.string)
        elif token.type == tokenize.STRING:
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError):
                continue
            if isinstance(value, str) and len(value.strip()) >= 3:
                found.add(value.strip())
    return found


def clean(text: object, hidden: list[str], limit: int = LIMIT) -> tuple[str, bool]:
    """(`text` as one safe line, whether hidden test text was removed from it)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    line = " ".join(lines)
    removed = False
    for part in hidden:
        if part in line:
            line, removed = line.replace(part, HIDDEN), True
    line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line)
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return line, removed


def redact(text: str, hidden: list[str]) -> tuple[str, bool]:
    """`text` with the hidden parts replaced but its lines kept (a check's multi-line feedback)."""
    removed = False
    for part in hidden:
        if part in text:
            text, removed = text.replace(part, HIDDEN), True
    return text, removed


def scrub_test_outputs(nb: NotebookNode, hidden: list[str]) -> bool:
    """Make what test cells printed or raised safe for feedback: an error keeps `type: one clean
    line` (tracebacks quote the test's source), text outputs lose every hidden part. True when
    hidden text was found and removed."""
    removed = False
    for cell in nb.cells:
        if not nbmeta.is_test_cell(cell):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                evalue, hit = clean(output.get("evalue", ""), hidden)
                output["ename"], output["evalue"] = exception_name(output.get("ename")), evalue
                output["traceback"] = [f"{output['ename']}: {evalue}"]
            elif output.get("output_type") == "stream":
                output["text"], hit = redact(str(output.get("text", "")), hidden)
            else:
                hit = False
                for mime, value in (output.get("data") or {}).items():
                    if isinstance(value, str) and not mime.startswith("image/"):
                        output["data"][mime], found = redact(value, hidden)
                        hit = hit or found
            removed = removed or hit
    return removed


def exception_name(name: object) -> str:
    """An exception's type name as shown: a dotted identifier, else 'Error'."""
    text = str(name or "")
    return text if re.fullmatch(r"[A-Za-z_][\w.]{0,79}", text) else "Error"

"""Text that came from a submission, made safe to show: one short line, no hidden test in it.

A learner's code can raise or print anything it can read at grading time, including its own
restored notebook with the hidden tests (`In[-1]`). Whatever such text reaches the learner's
feedback, the report, the gradebook or the terminal first passes `clean`: it keeps one line of
at most `LIMIT` characters and replaces every hidden-test line, and every number or string
literal of a hidden test (seeds, case counts, expected answers), with `…`. Escaping for HTML,
Markdown and rich markup is done where the text is written (`autograder.grading.report`).

Text encoded by the learner (reversed, base64) cannot be recognised; the short limit bounds
what it can carry, and `clean` reports that it removed something so the grader can flag it.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize

from nbformat import NotebookNode

from autograder import cell_meta

LIMIT = 200
HIDDEN = "…"
_MIN_LINE = 8  # shorter hidden lines ("pass", "])") are not worth hiding and would garble text
_MIN_NUMBER = 3  # digits: a seed or a count like 1101; a single digit is everywhere in shapes


def hidden_parts(nb: NotebookNode) -> list[str]:
    """The hidden tests' lines and literals of an instructor's (or restored) notebook that appear
    nowhere else in it (a question's name or a variable the learner sees is no secret), longest first."""
    parts: set[str] = set()
    visible = []
    for cell in nb.cells:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if not cell_meta.marks_hidden_tests(cell):
            visible.append(source)
            continue
        visible.append(re.sub(_HIDDEN_REGION, "", source, flags=re.S))
        for region in re.findall(_HIDDEN_REGION, source, flags=re.S):
            parts.update(line.strip() for line in region.splitlines() if len(line.strip()) >= _MIN_LINE)
            parts.update(_literals(region))
    seen = "\n".join(visible)
    found = [p for p in parts if p not in seen]
    if found:  # a quoted marker line says what surrounds it
        found += [cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN]
    return sorted(found, key=len, reverse=True)


_HIDDEN_REGION = rf"{re.escape(cell_meta.BEGIN_HIDDEN)}(.*?)(?:{re.escape(cell_meta.END_HIDDEN)}|\Z)"


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
    line, removed = redact(" ".join(lines), hidden)
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


def scrub_outputs(nb: NotebookNode, hidden: list[str]) -> bool:
    """Make what the cells printed or raised safe for feedback: every text output loses each hidden
    part (a cell can print `In[k]`, an earlier hidden test's source); a test cell's error keeps only
    `type: one clean line` (its traceback quotes the test). True when hidden text was removed."""
    removed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            found = []
            if output.get("output_type") == "error":
                evalue, hit = clean(output.get("evalue", ""), hidden)
                found.append(hit)
                output["ename"], output["evalue"] = exception_name(output.get("ename")), evalue
                if cell_meta.is_test_cell(cell) or cell_meta.marks_hidden_tests(cell):
                    output["traceback"] = [f"{output['ename']}: {evalue}"]
                else:
                    lines = [redact(str(line), hidden) for line in output.get("traceback", [])]
                    output["traceback"] = [line for line, _ in lines]
                    found += [hit for _, hit in lines]
            elif output.get("output_type") == "stream":
                output["text"], hit = redact(str(output.get("text", "")), hidden)
                found.append(hit)
            for mime, value in (output.get("data") or {}).items():
                if isinstance(value, str) and not mime.startswith("image/"):
                    output["data"][mime], hit = redact(value, hidden)
                    found.append(hit)
            removed = removed or any(found)
    return removed


def exception_name(name: object) -> str:
    """An exception's type name as shown: a dotted identifier, else 'Error'."""
    text = str(name or "")
    return text if re.fullmatch(r"[A-Za-z_][\w.]{0,79}", text) else "Error"

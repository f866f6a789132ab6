"""Feedback math that reads offline: LaTeX in Markdown becomes MathML, code stays as written."""
from pathlib import Path

import nbformat
import pytest

from autograder.offline_math import CODE, MathToMathML, to_mathml

SOLUTIONS = sorted((Path(__file__).resolve().parents[1] / "solutions").glob("*/*.ipynb"))


def test_inline_and_display_math_become_mathml():
    html = to_mathml("Output size $n - k + 1$, and\n\n$$\\left\\lfloor \\frac{n + 2p - k}{s} \\right\\rfloor + 1$$")
    assert "$" not in html
    assert html.count("<math") == 2 and 'display="block"' in html and 'display="inline"' in html
    assert "<mfrac>" in html


@pytest.mark.parametrize("text", [
    "costs $5 and $6",  # money, not math: a digit follows the closing dollar
    "`x = $y$` in code",
    "```\nprint('$a$')\n```",
    "an escaped \\$x\\$ stays",
])
def test_what_is_not_math_stays_as_written(text):
    assert to_mathml(text) == text


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.parent.name for p in SOLUTIONS])
def test_every_formula_of_every_lesson_converts(path):
    """Each formula a lesson writes is one latex2mathml reads: no raw LaTeX left in its feedback."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            converted, _ = MathToMathML().preprocess_cell(nbformat.from_dict(dict(cell)), {}, index)
            prose = "".join(part for i, part in enumerate(CODE.split(converted.source)) if i % 2 == 0)
            assert "$" not in prose.replace("\\$", ""), f"cell {index}: {prose[:300]}"

"""Feedback pages whose math reads without a network: LaTeX in Markdown cells becomes MathML.

nbgrader's feedback page typesets `$…$` with MathJax fetched from a CDN; on an offline grading
host or a campus network that blocks it, a learner sees raw LaTeX. `MathToMathML` (listed in
`autograder.config`'s GenerateFeedback preprocessors) converts each formula with latex2mathml
before the page is made; browsers draw MathML themselves. Code spans and fenced code are left
alone, and a formula latex2mathml cannot convert stays as it was.
"""
from __future__ import annotations

import re

from latex2mathml.converter import convert
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

# Fenced blocks and inline code spans: never math.
CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
# $$display$$, or $inline$ as pandoc reads it: no space inside either dollar, no digit after the closing one.
MATH = re.compile(r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$|(?<![\\$])\$(?![\s$])(?P<inline>[^$\n]+?)(?<![\s\\])\$(?!\d)",
                  re.S)


def _formula(match: re.Match) -> str:
    display = match.group("display") is not None
    latex = match.group("display") if display else match.group("inline")
    try:
        return convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml's own errors: the formula stays as LaTeX
        return match.group(0)


def to_mathml(markdown: str) -> str:
    """`markdown` with every formula outside code written as MathML."""
    parts = CODE.split(markdown)
    return "".join(part if i % 2 else MATH.sub(_formula, part) for i, part in enumerate(parts))


class MathToMathML(NbGraderPreprocessor):
    """Write the math of Markdown cells as MathML, for a page that needs no MathJax."""

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        if cell.cell_type == "markdown":
            cell.source = to_mathml(cell.source)
        return cell, resources

"""What the grading runner keeps of a notebook's outputs: the lesson's figures, not a flood."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.inside import execute

pytestmark = pytest.mark.grading


def figure(chars: int):
    return new_output("display_data", data={"image/png": "A" * chars, "text/plain": "<Figure>"})


def test_a_lesson_sized_figure_is_kept_and_a_giant_one_dropped():
    nb = new_notebook(cells=[new_code_cell("plot()", outputs=[figure(600_000)]),
                             new_code_cell("flood()", outputs=[figure(execute.MAX_FIGURE_CHARS + 1)])])
    execute._limit_outputs(nb)
    assert len(nb.cells[0].outputs[0]["data"]["image/png"]) == 600_000
    assert "image/png" not in nb.cells[1].outputs[0]["data"]
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "<Figure>"


def test_figures_share_one_budget_per_notebook():
    size = execute.MAX_FIGURE_CHARS
    count = execute.MAX_FIGURES_CHARS // size + 3
    nb = new_notebook(cells=[new_code_cell("plot()", outputs=[figure(size)]) for _ in range(count)])
    execute._limit_outputs(nb)
    kept = [c for c in nb.cells if "image/png" in c.outputs[0]["data"]]
    assert len(kept) == execute.MAX_FIGURES_CHARS // size
    assert nbformat.validate(nb) is None

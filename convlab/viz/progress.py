"""A bar a learner watches while something long runs (lesson 11's training): in a notebook, an
ipywidgets bar with the step and the last loss; elsewhere (a terminal, nbgrader's autograde or
validate, `convlab grade`) nothing, so no output or feedback page fills up with progress."""
from __future__ import annotations

import os

from convlab.checks.show import in_notebook
from convlab.i18n import _


class Bar:
    """`step(loss)` once per step of `total`; `close()` at the end (the bar stays, full, as a record)."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done, self.widget = total, label, 0, None
        if in_notebook() and not os.environ.get("NBGRADER_EXECUTION"):  # set while nbgrader or convlab grades
            import ipywidgets
            from IPython.display import display

            self.widget = ipywidgets.IntProgress(value=0, min=0, max=max(total, 1), description=label,
                                                 style={"description_width": "initial"})
            self.text = ipywidgets.Label()
            display(ipywidgets.HBox([self.widget, self.text]))

    def step(self, loss: float | None = None) -> None:
        self.done += 1
        if self.widget is not None:
            self.widget.value = self.done
            shown = _("{done}/{total}").format(done=self.done, total=self.total)
            self.text.value = shown + (_(", loss {loss:.3f}").format(loss=loss) if loss is not None else "")

    def close(self) -> None:
        if self.widget is not None:
            self.widget.bar_style = "success" if self.done >= self.total else "warning"

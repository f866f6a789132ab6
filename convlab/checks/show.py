"""A failing check's picture, where a learner can see it: in a notebook, never in a terminal.

`convlab check`, the grader's own calls and a plain Python session get the text only; a Jupyter
kernel also gets `convlab.viz.failure`'s three panels for the failing case.
"""
from __future__ import annotations

import sys


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell), which can show a figure."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def show_failure(got, want, title: str) -> None:
    """Display the failing case's outputs, if in a notebook; a picture that cannot be drawn is left out."""
    if not in_notebook():
        return
    try:
        # matplotlib is imported only when there is a failure to draw, not with every check.
        import matplotlib.pyplot as plt
        from IPython.display import display

        from convlab.viz.failure import failure_figure

        fig = failure_figure(got, want, title)
        display(fig)
        plt.close(fig)
    except Exception:  # the message says what is wrong; the picture only helps
        pass

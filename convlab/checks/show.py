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


def explain_unanswered() -> None:
    """In a notebook, an answer not written yet (nbgrader's bare `raise NotImplementedError()`) says
    so in the learner's language, wherever it is called (a question's test cell calls the learner's
    function itself); every other error shows as IPython shows it. Installed once per kernel."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if not in_notebook() or getattr(shell, "_convlab_unanswered", False) or shell.custom_exceptions:
        return  # not a notebook, done already, or another handler there (left as it is)

    def handler(self, etype, value, tb, tb_offset=None):
        if etype is NotImplementedError and not str(value):
            from convlab.checks.core import UNANSWERED
            from convlab.i18n import _

            value = NotImplementedError(_(UNANSWERED)).with_traceback(tb)
        self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((NotImplementedError,), handler)
    shell._convlab_unanswered = True

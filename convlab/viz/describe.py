"""A figure's text description, shown with it wherever a notebook shows the figure.

Each figure function ends with `describe(fig, text)`: the text, in the learner's language, says
what the picture shows, for a learner who cannot see it (a screen reader reads it) and for pages
that keep only text. In a Jupyter kernel the figure's display then carries it three ways:

- `text/plain` is the description (what a terminal, a text-only page or a screen reader falls
  back to), not matplotlib's "<Figure size ... with 3 Axes>";
- the PNG's metadata has it as `alt`, which nbconvert's classic HTML template (the one nbgrader's
  pages extend) writes into `<img alt="...">`;
- `text/html` is the same PNG as `<img alt="...">`: JupyterLab's image renderer and nbconvert's
  lab template write no alt from anything, and both prefer `text/html` to `image/png` (a
  PNG-only reader, such as nbconvert's LaTeX, still finds the PNG).

The text is added by wrapping the shell's own PNG printer of figures (the inline backend's, with
its settings: retina, dpi, tight bounding box), so the picture is drawn once per display. The
backend re-registers its printer whenever `%matplotlib inline` or `InlineBackend.figure_formats`
runs, so every `describe` checks the wrap is still there.
"""
from __future__ import annotations

import re
import sys
from html import escape

from convlab.i18n import _

ALT = "_convlab_alt"
_DRAWN = "_convlab_png"  # the PNG the HTML printer drew, for the PNG printer of the same display


def describe(fig, text: str):
    """Give `fig` its description (said in the learner's language by the caller); returns `fig`."""
    one_line = " ".join(text.split())  # an alt attribute, a text/plain fallback
    setattr(fig, ALT, re.sub(r"(?<=[。；：，）])\s+", "", one_line))  # Chinese sentences join without a space
    install()
    return fig


def description(fig) -> str | None:
    """The text `describe` gave `fig`, if any."""
    return getattr(fig, ALT, None)


def shape(dims) -> str:
    """A shape as a description writes it: (5, 7) -> '5×7'."""
    return "×".join(str(int(d)) for d in dims)


def listed(items) -> str:
    """Items as one phrase of the learner's language: 'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    # TRANSLATORS: between the items of a list, but the last two ("a, b and c")
    between = _(", ")
    said = _("{items} and {last}").format(items=between.join(items[:-1]), last=items[-1])
    return _SPACED.sub(" ", said)


#: Where a Chinese word meets a number or a Latin word: typeset with a space between them ("2 和 5").
_SPACED = re.compile(r"(?<=[0-9A-Za-z])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[0-9A-Za-z])")


def _shell():
    """The running IPython shell, if IPython is already imported (never imported here: it is slow)."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def install(shell=None) -> bool:
    """Wrap `shell`'s figure printers (default: the running one's) so that a described figure's
    display carries its text; True when a PNG printer of figures is there to wrap."""
    shell = shell or _shell()
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "image/png" not in formatters:
        return False
    from matplotlib.figure import Figure

    png = formatters["image/png"]
    try:
        render = png.lookup_by_type(Figure)
    except KeyError:
        return False  # figures drawn as SVG or JPEG only (InlineBackend.figure_formats): left as they are
    if not isinstance(render, _PNG):
        printer = _PNG(render)
        png.for_type(Figure, printer)
        formatters["text/html"].for_type(Figure, printer.html)
        formatters["text/plain"].for_type(Figure, _plain)
    return True


def _plain(fig, p, cycle) -> None:
    """IPython's pretty printer of a figure: its description, else matplotlib's own repr."""
    fig.__dict__.pop(_DRAWN, None)  # text/plain comes first in a display: nothing drawn is left over
    p.text(description(fig) or repr(fig))


class _PNG:
    """The shell's PNG printer of figures, adding a described figure's text as the PNG's `alt` and
    as an `<img>` of the same PNG; an undescribed figure is printed as before, with no HTML."""

    def __init__(self, render):
        self.render = render

    def _drawn(self, fig) -> tuple[str, dict] | None:
        result = self.render(fig)  # base64 PNG, or (PNG, {"width", "height"}) when retina; None if empty
        if result is None:
            return None
        return result if isinstance(result, tuple) else (result, {})

    def html(self, fig) -> str | None:
        text = description(fig)
        drawn = self._drawn(fig) if text else None
        if drawn is None:
            return None
        fig.__dict__[_DRAWN] = (self, drawn)
        data, sizes = drawn
        size = "".join(f' {key}="{int(sizes[key])}"' for key in ("width", "height") if key in sizes)
        return f'<img src="data:image/png;base64,{data}"{size} alt="{escape(text, quote=True)}">'

    def __call__(self, fig):
        text = description(fig)
        if not text:
            return self.render(fig)
        owner, drawn = fig.__dict__.pop(_DRAWN, (None, None))
        drawn = drawn if owner is self else self._drawn(fig)
        if drawn is None:
            return None
        data, metadata = drawn
        return data, {**metadata, "alt": text}

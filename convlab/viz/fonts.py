"""Figures in the lesson's language: Chinese labels drawn with a font that has the glyphs.

matplotlib's own DejaVu Sans has no CJK glyphs. The Chinese edition draws with Noto Sans CJK SC,
shipped inside the `mplfonts` package (nothing is fetched at run time), first in the font list so
that text mixing Chinese and `$math$` finds every glyph; English figures are left as they are.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import matplotlib
from matplotlib import font_manager

from convlab import i18n

FAMILY = "Noto Sans CJK SC"
FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_file() -> Path:
    """The font file inside the installed `mplfonts`, found without importing it (its import is slow)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the Chinese edition draws with the CJK font of mplfonts: pip install mplfonts")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FILE
    if not path.is_file():
        raise FileNotFoundError(f"the CJK font {FILE} is missing from mplfonts ({path}); reinstall mplfonts")
    return path


def use_language_font(lang: str | None = None) -> str:
    """Draw in a font for `lang` (default: the learner's); returns the first font family now used."""
    if (lang or i18n.language()) != "zh":
        return matplotlib.rcParams["font.family"][0]
    if FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(cjk_font_file()))
    families = [f for f in matplotlib.rcParams["font.family"] if f != FAMILY]
    matplotlib.rcParams["font.family"] = [FAMILY, *families]
    return FAMILY

"""Figures and widgets used by the lessons, one module per idea; labelled in the learner's
language, with a font that can draw it (`convlab.viz.fonts`)."""
from convlab.viz.fonts import use_language_font

use_language_font()

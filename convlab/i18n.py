"""The learner's language: every message a learner reads comes from a gettext catalog.

Catalogs are Babel's `.po` files in `convlab/locale/<lang>/LC_MESSAGES/convlab.po`, compiled when
first needed (`babel.messages.mofile`), so the source of a translation is the only copy of it. The
language is, in order: the grader's choice for the block it runs (`in_language`: a lesson's
feedback in the lesson's language), else the `CONVLAB_LANG` environment variable (a learner's
override; the grader sets it for the kernels it starts), else the language of the notebook the
kernel runs (`metadata.convlab.lang` of the file JupyterLab names in `JPY_SESSION_NAME`), else English.
Messages are marked with `_` where they are said and with `N_` where they are defined ahead.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import io
import json
import os
from pathlib import Path

DOMAIN = "convlab"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")
ENV = "CONVLAB_LANG"
# The grader's choice for the thread it runs in (`in_language`), so that the feedback of two
# submissions in two languages, scored side by side, never mixes.
_chosen: contextvars.ContextVar[str | None] = contextvars.ContextVar("convlab_lang", default=None)


def N_(message: str) -> str:
    """Marks a message defined ahead (a mistake's label) for the catalog; translated where shown."""
    return message


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of `lang` (English: the messages as written)."""
    if lang == "en":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(catalog_path(lang), "rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _checked(lang: str, where: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"{where}: no messages in {lang!r}; choose one of {', '.join(LANGUAGES)}")
    return lang


def declared(metadata: dict) -> str:
    """The language a notebook's metadata says it is in (`convlab.lang`); English if none, unknown or
    malformed (a learner's notebook may hold anything there)."""
    convlab = metadata.get("convlab") if isinstance(metadata, dict) else None
    lang = convlab.get("lang") if isinstance(convlab, dict) else None
    return lang if isinstance(lang, str) and lang in LANGUAGES else "en"


def language_of(path: Path | str) -> str:
    """The language a notebook file says it is in; English if it says none or cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            return declared(json.load(f).get("metadata", {}))
    except (OSError, ValueError, AttributeError):
        return "en"


@functools.lru_cache(maxsize=8)
def _notebook_language(path: str, mtime: float) -> str:
    return language_of(path)


def notebook_language() -> str:
    """The language of the notebook this kernel runs, as JupyterLab names it; English elsewhere."""
    path = os.environ.get("JPY_SESSION_NAME", "")
    if not path.endswith(".ipynb"):
        return "en"
    try:
        return _notebook_language(path, os.stat(path).st_mtime)
    except OSError:
        return "en"


def language() -> str:
    """The language messages are said in now."""
    chosen = _chosen.get() or os.environ.get(ENV)
    return _checked(chosen, ENV) if chosen else notebook_language()


@contextlib.contextmanager
def in_language(lang: str):
    """Messages in `lang` inside the block, in this thread (or task) only, whatever `CONVLAB_LANG`
    says: the grader words a lesson's feedback in the lesson's language, its report in its own."""
    token = _chosen.set(_checked(lang, "lang"))
    try:
        yield
    finally:
        _chosen.reset(token)


@contextlib.contextmanager
def speaking(lang: str):
    """Messages in `lang` inside the block (and in processes started there), unless `CONVLAB_LANG`
    already chose; the environment as it was afterwards."""
    before = os.environ.get(ENV)
    os.environ[ENV] = before or _checked(lang, "lang")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV, None)


def _(message: str) -> str:
    """`message` in the learner's language (the empty message stays empty: gettext would give the header)."""
    return translations(language()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ngettext(singular, plural, n)

"""The learner's language: every message a learner reads comes from a gettext catalog.

Catalogs are Babel's `.po` files in `convlab/locale/<lang>/LC_MESSAGES/convlab.po`, compiled when
first needed (`babel.messages.mofile`), so the source of a translation is the only copy of it. The
language is, in order: the grader's choice for the block it runs (`in_language`: a lesson's
feedback in the lesson's language), else the `CONVLAB_LANG` environment variable (a learner's
override; the grader sets it for the kernels it starts), else the language the notebook the kernel
runs declares in its own metadata (`metadata.convlab.lang`), whichever front-end runs it
(`notebook_language`), else English.
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
import sys
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
    """The language the notebook this kernel runs declares, read from the notebook itself: the file
    JupyterLab names (`JPY_SESSION_NAME`), the file VS Code names (`__vsc_ipynb_file__`), the
    notebook Colab holds, else the notebooks of the working directory where they agree (nbclient and
    nbconvert run a notebook in its own folder); English where none can be found."""
    path = _front_end_path()
    if path is not None:
        try:
            return _notebook_language(path, os.stat(path).st_mtime)
        except OSError:
            return "en"
    if "google.colab" in sys.modules:
        return _colab_language()
    try:
        folder = os.getcwd()
        return _folder_language(folder, os.stat(folder).st_mtime)
    except OSError:
        return "en"


def _front_end_path() -> str | None:
    """The notebook file the front-end says this kernel runs, if it says."""
    path = os.environ.get("JPY_SESSION_NAME", "")
    if path.endswith(".ipynb"):
        return path
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    path = getattr(shell, "user_ns", {}).get("__vsc_ipynb_file__")
    return path if isinstance(path, str) and path.endswith(".ipynb") else None


@functools.lru_cache(maxsize=8)
def _folder_language(folder: str, mtime: float) -> str:
    """The language the notebooks of `folder` declare, where they all declare the same one."""
    found = {language_of(path) for path in sorted(Path(folder).glob("*.ipynb"))[:20]}
    return found.pop() if len(found) == 1 else "en"


@functools.lru_cache(maxsize=1)
def _colab_language() -> str:
    """The language of the notebook Colab holds (asked once: Colab answers in a round trip)."""
    try:
        from google.colab import _message  # only in Colab

        return declared(_message.blocking_request("get_ipynb", timeout_sec=10)["ipynb"].get("metadata", {}))
    except Exception:  # any failure leaves the learner in English; it never stops a check
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

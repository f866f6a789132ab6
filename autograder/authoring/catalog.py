"""The message catalogs: every `_`/`N_`/`ngettext` message of the package, one `.po` per language.

`update` extracts the messages with Babel and merges them into the language's catalog (a new
message arrives untranslated, a changed one fuzzy); `problems` says, message by message, what keeps
a catalog from being complete: missing, untranslated, fuzzy, or with other `{placeholders}` than its
English.
"""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from convlab import i18n

ROOT = Path(i18n.__file__).resolve().parents[1]
#: Where learner-facing messages are said: the checks and `convlab check`'s table.
PACKAGES = ("convlab", "autograder")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def extracted() -> Catalog:
    """The messages the package says, as Babel finds them in its source."""
    catalog = Catalog(domain=i18n.DOMAIN, project="convlab", copyright_holder="the convlab authors")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
                str(ROOT / package), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            catalog.add(message, locations=[(f"{package}/{filename}", lineno)], auto_comments=comments,
                        context=context)
    return catalog


def load(lang: str) -> Catalog:
    path = i18n.catalog_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=i18n.DOMAIN, project="convlab", copyright_holder="the convlab authors")
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=i18n.DOMAIN)


def update(lang: str) -> int:
    """Merge the package's messages into `lang`'s catalog; returns how many are left to translate."""
    catalog, template = load(lang), extracted()
    template.creation_date = catalog.creation_date  # rewritten only where a message changed
    catalog.update(template, no_fuzzy_matching=True)
    path = i18n.catalog_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # files without line numbers: a message moving in its file changes nothing
        write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
    return len(problems(lang))


def _strings(message) -> tuple:
    return message.string if isinstance(message.string, (tuple, list)) else (message.string,)


def _ids(message) -> tuple:
    return message.id if isinstance(message.id, (tuple, list)) else (message.id,)


def problems(lang: str) -> list[str]:
    """One line per message that `lang`'s catalog lacks, leaves untranslated or mistranslates."""
    catalog, found = load(lang), []
    for message in extracted():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        english = _ids(message)[0]
        if entry is None:
            found.append(f"{lang}: missing: {english!r}")
        elif entry.fuzzy or not all(_strings(entry)):
            found.append(f"{lang}: untranslated: {english!r}")
        elif any(set(_PLACEHOLDER.findall(s)) != set(_PLACEHOLDER.findall(english)) for s in _strings(entry)):
            found.append(f"{lang}: other placeholders than the English: {english!r}")
    return found

"""Learners' feedback pages: nbgrader's own `generate_feedback`, run on what `convlab grade` stored.

`DIR/feedback/<student>/<assignment>/` is then exactly what `nbgrader generate_feedback` makes
(with `timestamp.txt` and `submission_secret.txt` beside the pages), so `nbgrader
release_feedback` and `fetch_feedback` work on it. It is made with convlab's feedback settings
(`autograder.config`: hidden tests removed) whatever the course's nbgrader_config.py says.

A submission's feedback is (re)made when it is missing or older than its autograded notebooks
(the grade changed); feedback newer than them — made by an instructor after manual grading — is
kept until they regrade (`convlab grade --force`).

What the pages show of a learner's work was made inert when the graded notebook was written
(`autograder.grading.inert`); nbconvert's own sanitiser runs over the outputs again here, and files a
browser would run as a page or script are not copied beside the pages (release_feedback hands out
every `.html` there as a feedback page).
"""
from __future__ import annotations

import copy
import html
import os
import re
from dataclasses import dataclass, field

import bleach
from bleach.css_sanitizer import CSSSanitizer
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from autograder.config import nbgrader_config
from autograder.coursedir import CourseDir
from autograder.interpreter import put_environment_on_path

# Suffixes of the files a browser runs as a page or script, any case: never copied from autograded/
# (where a learner's files beside the notebook are) to the pages.
ACTIVE_FILES = ("htm", "html", "js", "mjs", "shtml", "svg", "svgz", "xht", "xhtml", "xml", "xsl", "xslt")
# What inline styles may set in a sanitised page: the grader's verdict is drawn with them (`report.verdict_output`).
VERDICT_CSS = frozenset({"border-left", "color", "margin", "padding", "white-space"})


@dataclass
class FeedbackRun:
    made: list[str] = field(default_factory=list)  # "student/assignment"
    replaced: list[str] = field(default_factory=list)  # made over older feedback
    failed: dict[str, str] = field(default_factory=dict)  # "student/assignment" -> nbgrader's error


def _newest(folder, suffix: str) -> float | None:
    times = [entry.stat().st_mtime for entry in os.scandir(folder) if entry.name.endswith(suffix)] \
        if os.path.isdir(folder) else []
    return max(times, default=None)


def needed(course: CourseDir, student: str, assignment: str) -> bool | None:
    """None when feedback is current; False when there is none yet; True when it is older than the grade."""
    graded = _newest(course.autograded(student, assignment), ".ipynb")
    pages = _newest(course.feedback(student, assignment), ".html")
    if graded is None or (pages is not None and pages >= graded):
        return None
    return pages is not None


# What a sanitised page's pictures may be: the image itself, inline (a Markdown cell's attachment, a
# described figure), never a URL the page would fetch when the learner opens it.
INLINE_PICTURE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,")
EVERYWHERE = ("class", "id", "style")


def _uri(value: str) -> str:
    """A URL as a browser reads it (entities decoded, blanks and control characters dropped, lower case),
    the form bleach checks protocols on."""
    return re.sub(r"[`\x00-\x20\x7f-\xa0\s]+", "", html.unescape(value)).lower()


def _attribute(tag: str, name: str, value: str) -> bool:
    """bleach's attribute filter: nbconvert's, plus an image's inline source, alt text and size;
    `data:` (allowed as a protocol for images only) is refused in a link."""
    if name in EVERYWHERE:
        return True
    if tag == "img":
        if name == "src":
            return bool(INLINE_PICTURE.match(_uri(value)))
        return name in ("alt", "title", "width", "height")
    if tag == "a" and name == "href":
        return not _uri(value).startswith("data:")
    return name in bleach.ALLOWED_ATTRIBUTES.get(tag, ())


def clean_html(element) -> str:
    """nbconvert's `clean_html` filter, also keeping the `style` attributes that set only VERDICT_CSS,
    so that a sanitised page still draws the grader's verdict as it was written, and pictures held in
    the page (an instructor's Markdown figure) with their alt text, which a screen reader reads."""
    text = element.decode() if isinstance(element, bytes) else str(element)
    return bleach.clean(text, tags=[*bleach.ALLOWED_TAGS, "div", "pre", "code", "span", "table", "tr", "td", "img"],
                        attributes=_attribute, protocols={*bleach.ALLOWED_PROTOCOLS, "data"},
                        css_sanitizer=CSSSanitizer(allowed_css_properties=VERDICT_CSS))


def _any_case(suffix: str) -> str:
    """A glob for names ending in `.suffix` in any case (nbgrader matches its ignore globs case-sensitively)."""
    return "*." + "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in suffix)


def _settings(course: CourseDir) -> Config:
    """convlab's feedback settings over the course's, read once per run: nbconvert's sanitiser on (the
    outputs' HTML cleaned, JavaScript and widgets left out) and active files never copied."""
    config = nbgrader_config(course.root)
    config.merge(Config({
        "HTMLExporter": {"template_name": "feedback", "sanitize_html": True,
                         "filters": {"clean_html": clean_html}},
        "CourseDirectory": {"ignore": [*CourseDirectory.class_traits()["ignore"].default(),
                                       *map(_any_case, ACTIVE_FILES)]},
    }))
    return config


def _generate_one(settings: Config, student: str, assignment: str) -> None:
    """`nbgrader generate_feedback ASSIGNMENT --student STUDENT --force` with `settings` (`_settings`)."""
    config = copy.deepcopy(settings)  # nbgrader's apps may write into the config they are given
    coursedir = CourseDirectory(config=config, assignment_id=assignment, student_id=student)
    converter = GenerateFeedback(coursedir=coursedir, config=config)
    converter.force = True
    converter.start()


def generate(course: CourseDir, submissions: list[tuple[str, str]]) -> FeedbackRun:
    """Make the feedback of each (student, assignment) that needs it, by nbgrader's GenerateFeedback."""
    run = FeedbackRun()
    put_environment_on_path()
    settings = None
    for student, assignment in sorted(submissions):
        older = needed(course, student, assignment)
        if older is None:
            continue
        name = f"{student}/{assignment}"
        try:
            settings = settings or _settings(course)
            _generate_one(settings, student, assignment)
        except Exception as exc:  # nbgrader's NbGraderException, or an unreadable notebook
            run.failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        run.made.append(name)
        if older:
            run.replaced.append(name)
    return run

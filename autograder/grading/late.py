"""Late submissions, penalised by the course's rule exactly as plain `nbgrader autograde` does.

nbgrader's `AssignLatePenalties` step asks the course's `LateSubmissionPlugin` (`none`, `zero`, or
the course's own plugin class: a penalty per hour, per day...) for each notebook's penalty, given
its score and how many seconds the submission came after the due date. The due date is the
assignment's in the gradebook (`nbgrader db assignment add --duedate`, Formgrader) plus the
student's extension (`Gradebook.grant_extension`). Here the same step, built from the course's
settings, is run inside the transaction that stores the grades, and what it deducted is said in
the report and in the learner's feedback.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys

from nbgrader.preprocessors import AssignLatePenalties
from traitlets.config import Config

from convlab.i18n import _

_QUIET = logging.getLogger("convlab.late")  # the plugin logs every penalty at warning level
_QUIET.setLevel(logging.ERROR)


def rule(settings: Config) -> AssignLatePenalties:
    """The course's late step, its plugin made from the course's settings (`AssignLatePenalties.plugin_class`).
    A plugin module beside the course's nbgrader_config.py imports, as when nbgrader runs in the
    course's folder; one that cannot be imported raises here, before anything is graded."""
    with _importable_from(settings.get("CourseDirectory", {}).get("root")):
        step = AssignLatePenalties(config=settings, log=_QUIET)
        step.init_plugin()
    step.plugin_inst.log = _QUIET
    return step


@contextlib.contextmanager
def _importable_from(folder: str | None):
    if folder is None:
        yield
        return
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        sys.path.remove(folder)


def describe(step: AssignLatePenalties) -> str:
    """The rule in a few words, for the report: the plugin's class, and its method where it has one."""
    plugin = step.plugin_inst
    method = getattr(plugin, "penalty_method", None)
    name = f"{type(plugin).__module__}.{type(plugin).__qualname__}"
    return f"{name} (penalty_method={method!r})" if method is not None else name


def apply(step: AssignLatePenalties, db, submission) -> dict | None:
    """Set each notebook's `late_submission_penalty` as AssignLatePenalties does (None when on time,
    the plugin's penalty clipped to [0, score] when late), in the caller's transaction.
    Returns what happened, for the report and the feedback; None when the submission was on time."""
    db.flush()
    seconds = submission.total_seconds_late
    penalties = {}
    for notebook in submission.notebooks:
        db.refresh(notebook)  # its score sums the grades just written
        notebook.late_submission_penalty = None
        if seconds > 0:
            penalty = step.plugin_inst.late_submission_penalty(submission.student.id, notebook.score, seconds)
            if penalty is not None:
                notebook.late_submission_penalty = step._check_late_penalty(notebook, penalty)
        penalties[notebook.name] = float(notebook.late_submission_penalty or 0.0)
    if seconds <= 0:
        return None
    extension = submission.extension.total_seconds() if submission.extension is not None else 0.0
    return {"seconds_late": float(seconds), "due": _iso(submission.duedate), "extension_seconds": extension,
            "penalty": penalties, "rule": describe(step)}


def _iso(when: dt.datetime | None) -> str | None:
    return when.strftime("%Y-%m-%d %H:%M UTC") if when is not None else None


def duration(seconds: float) -> str:
    """`seconds` as days, hours and minutes, in the current language ("1 d 2 h 5 min")."""
    minutes = int(seconds // 60) + (1 if seconds % 60 else 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, _("{n} d")), (hours, _("{n} h")), (minutes, _("{n} min"))]
    return " ".join(unit.format(n=n) for n, unit in parts if n) or _("{n} min").format(n=0)


def comment(late: dict, notebook: str) -> str:
    """What the learner reads in their feedback: how late, against which due date, and what was taken."""
    said = _("Submitted {late} after the due date ({due}).").format(late=duration(late["seconds_late"]),
                                                                    due=late["due"])
    if late["extension_seconds"]:
        said += " " + _("Your due date includes an extension of {extension}.").format(
            extension=duration(late["extension_seconds"]))
    penalty = late["penalty"].get(notebook, 0.0)
    said += " " + (_("The course's late rule deducted {points:g} point(s) from this notebook.").format(points=penalty)
                   if penalty else _("The course's late rule deducted nothing."))
    return said

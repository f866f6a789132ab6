"""Who is learning: the id per-student questions draw their numbers from.

The grader says it (`CONVLAB_LEARNER`: nbgrader's student id, set by `convlab grade` and by the
course's execute step under plain `nbgrader autograde`); on a JupyterHub the learner's own server
knows its user (`JUPYTERHUB_USER`); a learner on their own has no id and gets the lesson's numbers.
"""
from __future__ import annotations

import os

ENV = "CONVLAB_LEARNER"


def learner_id() -> str | None:
    """The learner's id, or None (self-paced: the lesson's own numbers)."""
    if ENV in os.environ:  # the grader's word, even an empty one (no id): never the server's user
        return os.environ[ENV] or None
    return os.environ.get("JUPYTERHUB_USER") or None

"""nbgrader settings for a convlab course, as a traitlets Config and as `nbgrader_config.py` text.

One table of settings (`SETTINGS`) feeds both: `convlab build`/`new-course` pass the Config to
nbgrader's Python API, and `new-course` writes the same values into the course's
`nbgrader_config.py`, so plain `nbgrader autograde` grades exactly as convlab does.
Also holds `HideHiddenTests`, the feedback preprocessor that setting list names.
"""
from __future__ import annotations

import os
from pathlib import Path

from nbclient.util import run_sync
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets.config import Config

from autograder import cell_meta, defaults
from autograder.coursedir import load_settings
from autograder.grading import learner_text
from convlab import i18n, learner

# Seconds one cell may run under `nbgrader autograde` (a check runs many random cases, and on
# CUDA as well when there is a GPU); a cell that runs longer is interrupted and scores zero.
CELL_TIMEOUT = defaults.NBGRADER_CELL_SECONDS

# nbgrader scores zero any test cell with output on stderr (nbgrader.utils.determine_grade), so a
# torch UserWarning, a progress bar or a debug print would zero a correct answer. IgnorePattern
# (nbgrader >= 0.9.3) drops stderr outputs matching this pattern before scoring; it matches any
# text. Errors are `error` outputs, not stderr, so a failing test still scores zero.
IGNORE_STDERR = r"[\s\S]*"

SETTINGS: dict[str, dict[str, object]] = {
    "Execute": {
        "timeout": CELL_TIMEOUT,
        "interrupt_on_timeout": True,
    },
    "IgnorePattern": {"enabled": True, "pattern": IGNORE_STDERR},  # off by default
    # nbgrader's feedback shows hidden test source (nbgrader issue #917); HideHiddenTests removes it.
    "GenerateFeedback": {
        "preprocessors": [
            "nbgrader.preprocessors.GetGrades",
            "autograder.config.HideHiddenTests",
            "autograder.offline_math.MathToMathML",
            "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
        ],
    },
    # nbgrader warns "Attribute 'checksum' ... has changed" for every test cell with hidden tests,
    # touched or not; RestoreHiddenTests puts them back silently where the cell is as released.
    "Autograde": {
        "sanitize_preprocessors": [
            "nbgrader.preprocessors.ClearOutput",
            "nbgrader.preprocessors.DeduplicateIds",
            "nbgrader.preprocessors.OverwriteKernelspec",
            "autograder.config.RestoreHiddenTests",
            "nbgrader.preprocessors.CheckCellMetadata",
        ],
        # nbgrader's own list, its Execute replaced by one that runs the kernel in the notebook's language.
        "autograde_preprocessors": [
            "autograder.config.ExecuteInItsLanguage",
            "nbgrader.preprocessors.IgnorePattern",
            "nbconvert.preprocessors.ClearMetadataPreprocessor",
            "nbgrader.preprocessors.LimitOutput",
            "nbgrader.preprocessors.SaveAutoGrades",
            "nbgrader.preprocessors.AssignLatePenalties",
            "nbgrader.preprocessors.CheckCellMetadata",
        ],
    },
    "ClearSolutions": {
        "code_stub": {"python": "# YOUR CODE HERE\nraise NotImplementedError()"},
    },
}


# Why each section is set, repeated above it in the written nbgrader_config.py.
WHY = {
    "Execute": f"Each cell may run {CELL_TIMEOUT} s; then it is interrupted and scores zero.",
    "IgnorePattern": "Output on stderr (warnings, progress bars) must not zero a correct answer;\n"
    "# errors are not stderr output, so a failing test still scores zero.",
    "GenerateFeedback": "Feedback keeps the verdict of hidden tests, never their source; its math reads offline.",
    "Autograde": "Hidden tests come back without a warning where a learner left the test cell as released;\n"
    "# feedback comes in the notebook's language (the Chinese edition's checks speak Chinese).",
    "ClearSolutions": "What a learner finds in place of each solution.",
}


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden-test source from feedback, and from what test cells printed or raised (a
    traceback quotes the failing line; a learner's code can print its own notebook); keep the verdict."""

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        learner_text.scrub_outputs(nb, learner_text.hidden_parts(nb))
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        # Any code cell with the marker, whatever its metadata says: what a learner reads never shows
        # a region so marked. A learner's own unbalanced markers are their text, left as it is.
        if cell_meta.marks_hidden_tests(cell):
            try:
                cell.source = cell_meta.remove_region(cell.source, cell_meta.BEGIN_HIDDEN, cell_meta.END_HIDDEN)
            except ValueError:
                pass
        return cell, resources


class ExecuteInItsLanguage(Execute):
    """nbgrader's Execute, its kernel told the notebook's language (`convlab.i18n`), so that a Chinese
    lesson's checks give their feedback in Chinese under plain `nbgrader autograde` too, and the
    student it grades (`convlab.learner`), so per-student questions are checked with their numbers."""

    def preprocess(self, nb, resources=None, km=None):
        self._student = ((resources or {}).get("nbgrader") or {}).get("student") or ""
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs):
        env = dict(kwargs.pop("env", None) or os.environ)
        env[i18n.ENV] = i18n.declared(self.nb.metadata)  # as `convlab grade`: the lesson's, not the grader's
        env[learner.ENV] = getattr(self, "_student", "")  # the student graded, never the grader's own user
        return await super().async_start_new_kernel(env=env, **kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient binds its own at class creation


class RestoreHiddenTests(OverwriteCells):
    """nbgrader's OverwriteCells, quiet about what nbgrader itself removed: a locked cell whose source
    is the instructor's with its hidden tests cleared (as released) gets them back before the check,
    so the "checksum has changed" warning is left for cells a learner really edited."""

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None:
            try:
                source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source = None
            if source is not None and source.locked and cell.source == self._as_released(source.source):
                cell.source = source.source
        return super().preprocess_cell(cell, resources, index)

    def _as_released(self, source: str) -> str:
        released = NotebookNode(cell_type="code", source=source, metadata={})
        ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
        return released.source


def nbgrader_config(root: str | os.PathLike) -> Config:
    """The settings nbgrader's Python API runs with for the course at `root`: the course's own
    (`coursedir.load_settings`: its db_url, late-penalty plugin, exchange...), with every one of
    `SETTINGS` laid over them, so hidden tests stay out of feedback whatever the course's file says."""
    config = load_settings(Path(root).resolve())
    for section, values in SETTINGS.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    return config


def config_text() -> str:
    """`nbgrader_config.py` for a course directory: the same settings, root = the file's folder."""
    lines = [
        '"""nbgrader settings for a convlab course (written by `convlab new-course`)."""',
        "import os",
        "",
        "c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file",
        "",
        "# The course is the folder holding this file, wherever it is moved.",
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))",
    ]
    for section, values in SETTINGS.items():
        lines += ["", f"# {WHY[section]}"]
        for key, value in values.items():
            lines.append(f"c.{section}.{key} = {value!r}")
    return "\n".join(lines) + "\n"

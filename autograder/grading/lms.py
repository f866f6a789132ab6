"""`convlab export DIR --format canvas|moodle|brightspace|csv`: the gradebook's scores as an LMS
imports them, one row per student and one column per assignment.

Each format follows its LMS's documented import:
- Canvas (Grades → Import): the columns of Canvas's own gradebook export, `Student`, `ID`,
  `SIS User ID`, `SIS Login ID`, `Section`, then one column per assignment, and a `Points
  Possible` row under the header;
- Moodle (Grades → Import → CSV file): one identifier column (`Email address`, `ID number` or
  `Username`) and one column per assignment, mapped on import;
- Brightspace (Grades → Import): `OrgDefinedId` and `Username`, one `<item> Points Grade` column per
  assignment, and the `End-of-Line Indicator` column, `#` on every row;
- csv: nbgrader's own export columns (`nbgrader export`), one row per student and assignment.

The LMS's ids are rarely the hub's user names: a roster (a CSV with a `username` column, the
hub's, and the LMS's id columns: `email`, `sis_user_id`, `sis_login_id`, `canvas_id`,
`org_defined_id`, `name`, `section`) maps them. A student the roster does not name, or a format's
required id missing for one, is refused with the names: a grade silently sent to nobody is lost.
These are also nbgrader export plugins (`--exporter=autograder.grading.lms.CanvasExport`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins.export import CsvExportPlugin, ExportPlugin
from traitlets import Unicode

ROSTER_COLUMNS = ("username", "email", "sis_user_id", "sis_login_id", "canvas_id", "org_defined_id", "name", "section")


class ExportError(ValueError):
    """The grades cannot be written in the format asked for: the message says why."""


@dataclass
class Scores:
    students: list[str]  # the hub's user names, sorted
    assignments: list[str]  # in the gradebook's order
    max_score: dict[str, float]
    score: dict[tuple[str, str], float | None]  # (student, assignment) -> points; None: nothing submitted


def scores(gradebook) -> Scores:
    """Every student's score on every assignment, from nbgrader's gradebook: after the late penalty,
    as `nbgrader export`'s `score` column (never below zero)."""
    from nbgrader.api import MissingEntry

    students = sorted(s.id for s in gradebook.students)
    assignments = [a.name for a in gradebook.assignments]
    got: dict[tuple[str, str], float | None] = {}
    for assignment in assignments:
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
                got[student, assignment] = max(0.0, submission.score - submission.late_submission_penalty)
            except MissingEntry:
                got[student, assignment] = None
    return Scores(students, assignments, {a.name: a.max_score for a in gradebook.assignments}, got)


def read_roster(path: Path | None) -> dict[str, dict[str, str]]:
    """username -> the LMS's ids for that student (an empty roster: the user names are the ids)."""
    if path is None:
        return {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "username" not in reader.fieldnames:
            raise ExportError(f"--roster: {str(path)!r} needs a 'username' column (the hub's user names)")
        unknown = [c for c in reader.fieldnames if c not in ROSTER_COLUMNS]
        if unknown:
            raise ExportError(f"--roster: unknown column {unknown[0]!r}; the columns are {', '.join(ROSTER_COLUMNS)}")
        return {row["username"].strip(): {k: (v or "").strip() for k, v in row.items()} for row in reader}


def _ids(students: list[str], roster: dict, needed: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Each student's ids; ExportError naming those the roster leaves without any of `needed`."""
    # Without a roster the hub's user names are the LMS's logins (a university's single sign-on).
    ids = {s: roster.get(s, {"username": s}) if roster else {"username": s, "sis_login_id": s} for s in students}
    if roster:
        missing = [s for s in students if s not in roster]
        if missing:
            raise ExportError(f"--roster names no row for {len(missing)} student(s): {', '.join(missing[:10])}")
    lacking = [s for s in students if not any(ids[s].get(k) for k in needed)]
    if lacking:
        raise ExportError(f"no {' or '.join(needed)} for {len(lacking)} student(s): {', '.join(lacking[:10])} "
                          "(give them in --roster)")
    return ids


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def canvas(s: Scores, roster: dict) -> str:
    ids = _ids(s.students, roster, ("canvas_id", "sis_user_id", "sis_login_id"))
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *s.assignments],
            ["    Points Possible", "", "", "", "", *(_points(s.max_score[a]) for a in s.assignments)]]
    for student in s.students:
        who = ids[student]
        rows.append([who.get("name") or student, who.get("canvas_id", ""), who.get("sis_user_id", ""),
                     who.get("sis_login_id", ""), who.get("section", ""),
                     *(_points(s.score[student, a]) for a in s.assignments)])
    return _csv(rows)


def moodle(s: Scores, roster: dict) -> str:
    ids = _ids(s.students, roster, ("email", "sis_user_id", "username"))
    key, header = next((k, h) for k, h in (("email", "Email address"), ("sis_user_id", "ID number"),
                                           ("username", "Username")) if all(ids[x].get(k) for x in s.students))
    return _csv([[header, *s.assignments],
                 *([ids[x][key], *(_points(s.score[x, a]) for a in s.assignments)] for x in s.students)])


def brightspace(s: Scores, roster: dict) -> str:
    ids = _ids(s.students, roster, ("org_defined_id", "username"))
    rows = [["OrgDefinedId", "Username", *(f"{a} Points Grade" for a in s.assignments), "End-of-Line Indicator"]]
    for student in s.students:
        who = ids[student]
        rows.append([who.get("org_defined_id", ""), who.get("username", student),
                     *(_points(s.score[student, a]) for a in s.assignments), "#"])
    return _csv(rows)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


FORMATS = {"canvas": canvas, "moodle": moodle, "brightspace": brightspace}


def export(gradebook, fmt: str, roster: Path | None = None) -> str:
    """The grades in `fmt`'s import format, as text."""
    if fmt == "csv":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            CsvExportPlugin(to=f"{tmp}/grades.csv").export(gradebook)
            return Path(tmp, "grades.csv").read_text()
    if fmt not in FORMATS:
        raise ExportError(f"--format: no {fmt!r}; choose one of csv, {', '.join(FORMATS)}")
    return FORMATS[fmt](scores(gradebook), read_roster(roster))


class _LmsExport(ExportPlugin):
    """An nbgrader export plugin writing one LMS's format (`nbgrader export --exporter=...`)."""

    fmt = "csv"
    roster = Unicode("", help="a roster CSV mapping the hub's user names to the LMS's ids").tag(config=True)

    def export(self, gradebook) -> None:
        text = export(gradebook, self.fmt, Path(self.roster) if self.roster else None)
        with open(self.to or f"grades-{self.fmt}.csv", "w", encoding="utf-8", newline="") as f:
            f.write(text)


class CanvasExport(_LmsExport):
    fmt = "canvas"


class MoodleExport(_LmsExport):
    fmt = "moodle"


class BrightspaceExport(_LmsExport):
    fmt = "brightspace"

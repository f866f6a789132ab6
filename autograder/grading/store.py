"""Transactional grade storage: one gradebook transaction per submission, and the record of
what convlab has graded.

Grades go into nbgrader's own gradebook (`DIR/gradebook.db`, nbgrader's models and SQLAlchemy
session), so `nbgrader formgrade`/`export` see them. In the same transaction a row of the
`convlab_graded` table marks the submission done (with a digest of the submitted files and the
per-cell details the instructor report reads). A run killed at any point leaves each submission
either fully stored or not at all; the next run grades exactly the ones not stored.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
import time

from nbgrader.api import Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment, SubmittedNotebook
from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, SaveCells
from nbgrader.utils import parse_utc
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from autograder.coursedir import CourseDir
from autograder.grading import late
from convlab import i18n

DONE_TABLE = "convlab_graded"


#: How often a transaction that met another grading run's (a lock, a row it inserted first) is tried.
ATTEMPTS = 6


def _retrying(action):
    """`action()`, tried again after a short random wait when another run's transaction got in its
    way (SQLite's "database is locked", PostgreSQL's unique-key race on a new student or table):
    runs on different assignments share one gradebook and lose nothing."""
    for attempt in range(ATTEMPTS):
        try:
            return action()
        except (OperationalError, IntegrityError, ProgrammingError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2 ** attempt * (1 + random.random()))


def open_gradebook(course: CourseDir):
    """nbgrader's Gradebook at the course's `db_url` (`DIR/gradebook.db` by default), with convlab's
    done table present."""
    return _retrying(lambda: _open_gradebook(course))


def _open_gradebook(course: CourseDir):
    gb = Gradebook(course.gradebook_url)
    gb.convlab_db_url = course.gradebook_url
    gb.db.execute(text(
        f"CREATE TABLE IF NOT EXISTS {DONE_TABLE} ("
        "student TEXT NOT NULL, assignment TEXT NOT NULL, digest TEXT NOT NULL, "
        "graded_at TEXT NOT NULL, details TEXT NOT NULL, PRIMARY KEY (student, assignment))"))
    gb.db.commit()
    return gb


def done_digests(gb) -> dict[tuple[str, str], str]:
    """(student, assignment) -> digest of the files graded, for every stored submission."""
    rows = gb.db.execute(text(f"SELECT student, assignment, digest FROM {DONE_TABLE}")).fetchall()
    return {(s, a): d for s, a, d in rows}


def details(gb) -> list[dict]:
    """The stored per-submission details (scores per cell, reasons), for the instructor report."""
    rows = gb.db.execute(text(f"SELECT details FROM {DONE_TABLE} ORDER BY student, assignment")).fetchall()
    return [json.loads(row[0]) for row in rows]


def ensure_assignment(gb, assignment: str, notebooks: dict[str, object]) -> None:
    """Make sure the gradebook knows `assignment`, its notebooks and their grade cells.

    `notebooks`: notebook name -> the instructor's source notebook. A course made by
    `convlab new-course` already has them; for any other course they are saved the way
    nbgrader's generate_assignment saves them (solutions cleared, checksums computed).
    """
    try:
        gb.find_assignment(assignment)
    except MissingEntry:
        gb.add_assignment(assignment)
    for name, source in notebooks.items():
        try:
            gb.find_notebook(name, assignment)
            continue
        except MissingEntry:
            pass
        nb = copy.deepcopy(source)
        resources = {"nbgrader": {"assignment": assignment, "notebook": name, "db_url": gb.convlab_db_url}}
        for pre in (ClearSolutions(), ClearOutput(), ComputeChecksums(), SaveCells()):
            nb, resources = pre.preprocess(nb, resources)


def store_submission(gb, **submission) -> dict:
    """`store_once`, tried again where another grading run's transaction got in its way."""
    return _retrying(lambda: store_once(gb, **submission))


def store_once(gb, *, student: str, assignment: str, digest: str, timestamp: str | None,
               notebooks: dict[str, list[dict]], summary: dict, late_rule=None) -> dict:
    """Write one submission's auto scores, late penalties and comments, and mark it done, in ONE
    transaction; returns `summary` as stored (with `late` where the submission was late).

    notebooks: notebook name -> list of CellResult dicts. Manual scores already given by a
    grader are kept; a cell with one is flagged for review, as nbgrader does. `late_rule`: the
    course's `late.rule` (None: no penalty, as nbgrader's default plugin).
    """
    db = gb.db
    try:
        submission = _submission(gb, student, assignment)
        submission.timestamp = _parsed(timestamp)
        for notebook in submission.assignment.notebooks:
            _store_grades(db, _submitted_notebook(db, submission, notebook), notebook.grade_cells,
                          {r["grade_id"]: r for r in notebooks.get(notebook.name, [])})
        lateness = late.apply(late_rule, db, submission) if late_rule is not None else None
        summary = {**summary, "late": lateness} if lateness else summary
        for sub_nb in submission.notebooks:
            _store_comments(db, sub_nb, summary, lateness)
        db.execute(text(f"DELETE FROM {DONE_TABLE} WHERE student = :s AND assignment = :a"),
                   {"s": student, "a": assignment})
        db.execute(text(f"INSERT INTO {DONE_TABLE} VALUES (:s, :a, :d, :t, :j)"),
                   {"s": student, "a": assignment, "d": digest,
                    "t": dt.datetime.now(dt.timezone.utc).isoformat(), "j": json.dumps(summary)})
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return summary


def _submission(gb, student: str, assignment: str) -> SubmittedAssignment:
    """The student's submission of `assignment`, made (with the student) where the gradebook has none;
    an existing one keeps its extension."""
    db = gb.db
    if db.query(Student).filter(Student.id == student).one_or_none() is None:
        db.add(Student(id=student))
        db.flush()
    try:
        return gb.find_submission(assignment, student)
    except MissingEntry:
        submission = SubmittedAssignment(assignment=gb.find_assignment(assignment), student=db.get(Student, student))
        db.add(submission)
        db.flush()
        return submission


def _parsed(timestamp: str | None):
    """`timestamp.txt` as nbgrader reads it; unreadable counts as missing, as in nbgrader."""
    try:
        return parse_utc(timestamp) if timestamp else None
    except ValueError:
        return None


def _submitted_notebook(db, submission, notebook) -> SubmittedNotebook:
    sub_nb = next((n for n in submission.notebooks if n.notebook_id == notebook.id), None)
    if sub_nb is None:
        sub_nb = SubmittedNotebook(notebook=notebook, assignment=submission)
        db.add(sub_nb)
        db.flush()
    return sub_nb


def _store_grades(db, sub_nb, grade_cells, results: dict[str, dict]) -> None:
    grades = {g.cell_id: g for g in sub_nb.grades}
    for cell in grade_cells:
        grade = grades.get(cell.id) or Grade(cell_id=cell.id, notebook=sub_nb)
        result = results.get(cell.name)
        if result is not None:
            grade.auto_score = float(result["points"])
            grade.needs_manual_grade = grade.manual_score is not None or bool(result.get("review"))
        else:  # a manually graded answer: nbgrader leaves it for a person
            grade.auto_score = None
            grade.needs_manual_grade = True
        db.add(grade)


def _store_comments(db, sub_nb, summary: dict, lateness: dict | None) -> None:
    """The grader's note on every answer cell of the notebook, in the notebook's language, with
    what a late submission cost."""
    info = summary.get("notebooks", {}).get(sub_nb.name, {})
    note = info.get("comment")
    if lateness:
        with i18n.in_language(info.get("lang") or i18n.language()):
            note = "\n\n".join(filter(None, [note, late.comment(lateness, sub_nb.name)]))
    comments = {c.cell_id: c for c in sub_nb.comments}
    for cell in list(sub_nb.notebook.solution_cells) + list(sub_nb.notebook.task_cells):
        comment = comments.get(cell.id) or Comment(cell_id=cell.id, notebook=sub_nb)
        comment.auto_comment = note
        db.add(comment)

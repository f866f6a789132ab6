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

from nbgrader.api import Comment, Grade, Gradebook, MissingEntry, Student, SubmittedAssignment, SubmittedNotebook
from nbgrader.preprocessors import ClearOutput, ClearSolutions, ComputeChecksums, SaveCells
from nbgrader.utils import parse_utc
from sqlalchemy import text

from autograder.coursedir import CourseDir

DONE_TABLE = "convlab_graded"


def open_gradebook(course: CourseDir):
    """nbgrader's Gradebook on `DIR/gradebook.db`, with convlab's done table present."""
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


def store_submission(gb, *, student: str, assignment: str, digest: str, timestamp: str | None,
                     notebooks: dict[str, list[dict]], summary: dict) -> None:
    """Write one submission's auto scores and comments, and mark it done, in ONE transaction.

    notebooks: notebook name -> list of CellResult dicts. Manual scores already given by a
    grader are kept; a cell with one is flagged for review, as nbgrader does.
    """
    db = gb.db
    try:
        if db.query(Student).filter(Student.id == student).one_or_none() is None:
            db.add(Student(id=student))
            db.flush()
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = SubmittedAssignment(assignment=gb.find_assignment(assignment),
                                             student=db.get(Student, student))
            db.add(submission)
            db.flush()
        try:
            submission.timestamp = parse_utc(timestamp) if timestamp else None
        except ValueError:  # an unreadable timestamp.txt: nbgrader treats it as missing too
            submission.timestamp = None
        for notebook in submission.assignment.notebooks:
            sub_nb = next((n for n in submission.notebooks if n.notebook_id == notebook.id), None)
            if sub_nb is None:
                sub_nb = SubmittedNotebook(notebook=notebook, assignment=submission)
                db.add(sub_nb)
                db.flush()
            results = {r["grade_id"]: r for r in notebooks.get(notebook.name, [])}
            grades = {g.cell_id: g for g in sub_nb.grades}
            for cell in notebook.grade_cells:
                grade = grades.get(cell.id) or Grade(cell_id=cell.id, notebook=sub_nb)
                result = results.get(cell.name)
                if result is not None:
                    grade.auto_score = float(result["points"])
                    grade.needs_manual_grade = grade.manual_score is not None or bool(result.get("review"))
                else:  # a manually graded answer: nbgrader leaves it for a person
                    grade.auto_score = None
                    grade.needs_manual_grade = True
                db.add(grade)
            comments = {c.cell_id: c for c in sub_nb.comments}
            note = summary.get("notebooks", {}).get(notebook.name, {}).get("comment")
            for cell in list(notebook.solution_cells) + list(notebook.task_cells):
                comment = comments.get(cell.id) or Comment(cell_id=cell.id, notebook=sub_nb)
                comment.auto_comment = note
                db.add(comment)
        db.execute(text(f"DELETE FROM {DONE_TABLE} WHERE student = :s AND assignment = :a"),
                   {"s": student, "a": assignment})
        db.execute(text(f"INSERT INTO {DONE_TABLE} VALUES (:s, :a, :d, :t, :j)"),
                   {"s": student, "a": assignment, "d": digest,
                    "t": dt.datetime.now(dt.timezone.utc).isoformat(), "j": json.dumps(summary)})
        db.commit()
    except BaseException:
        db.rollback()
        raise


"""What grading writes for people: the learner's feedback page, grades.csv, the instructor's
report (pass rate per exercise, score distribution figure, reasons for failures) and the summary
table printed at the end of a run.

Feedback shows, per test cell, the outcome, the points and the check's message, and never a
test cell's source: hidden tests stay hidden (nbgrader issue #917).
"""
from __future__ import annotations

import collections
import html
import os
import re
import tempfile

from autograder.coursedir import CourseDir


def atomic_write(path: str, data: str | bytes) -> None:
    """Write the whole file or nothing (temp file, then os.replace): a killed run leaves no half file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def feedback_html(*, student: str, assignment: str, notebook: str, results: list[dict],
                  note: str | None) -> str:
    """The learner's feedback page for one notebook: outcome, points and message per test."""
    score = sum(r["points"] for r in results)
    total = sum(r["max_points"] for r in results)
    rows = "\n".join(
        f"<tr class='{'pass' if r['passed'] else 'fail'}'><td>{html.escape(r['grade_id'])}</td>"
        f"<td>{'passed' if r['passed'] else 'failed'}</td>"
        f"<td>{r['points']:g} / {r['max_points']:g}</td>"
        f"<td><pre>{html.escape(r['message'])}</pre></td></tr>"
        for r in results)
    banner = f"<p class='note'>{html.escape(note)}</p>" if note else ""
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(assignment)}: {html.escape(notebook)}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; vertical-align: top; text-align: left; }}
tr.pass td:nth-child(2) {{ color: #1a7f37; }} tr.fail td:nth-child(2) {{ color: #cf222e; }}
pre {{ white-space: pre-wrap; margin: 0; font-size: .9em; }} .note {{ color: #9a6700; }}
</style></head><body>
<h1>{html.escape(assignment)} / {html.escape(notebook)}</h1>
<p>Student: {html.escape(student)} &mdash; score: <b>{score:g} / {total:g}</b></p>
{banner}
<table><tr><th>test</th><th>outcome</th><th>points</th><th>feedback</th></tr>
{rows}
</table></body></html>
"""


def write_feedback(course: CourseDir, student: str, assignment: str, notebook: str,
                   results: list[dict], note: str | None) -> str:
    path = course.feedback(student, assignment, notebook)
    atomic_write(path, feedback_html(student=student, assignment=assignment, notebook=notebook,
                                      results=results, note=note))
    return path


def write_grades_csv(gb, course: CourseDir) -> str:
    """`DIR/grades.csv` by nbgrader's own CSV exporter (the columns of `nbgrader export`)."""
    from nbgrader.plugins.export import CsvExportPlugin

    path = str(course.grades_csv)
    tmp = path + ".tmp"
    CsvExportPlugin(to=tmp).export(gb)
    os.replace(tmp, path)
    return path


def _review_section(submissions: list[dict]) -> list[str]:
    """Flagged students first: what the grader found, per test, for a person to look at."""
    rows = []
    for sub in submissions:
        for notebook, info in sorted(sub.get("notebooks", {}).items()):
            for r in info.get("results", []):
                for why in r.get("review", []):
                    rows.append(f"| {sub['student']} | {sub['assignment']} | {r['grade_id']} | {_cell_text(why)} |")
    if not rows:
        return []
    return ["## To review (needs manual grade)", "",
            "Code no honest answer needs, or what the grader saw at run time. Scores are unchanged; "
            "nbgrader's formgrader lists these tests for review.", "",
            "| student | assignment | test | why |", "|---|---|---|---|", *rows, ""]


def _cell_text(text: str) -> str:
    """Text safe inside a Markdown table cell: no HTML, no links, images, code or emphasis, one line
    (an underscore inside a word, as in a student id, is no emphasis and stays as it is)."""
    text = html.escape(" ".join(str(text).split()))
    return re.sub(r"([\\`*\[\]|~]|(?<!\w)_|_(?!\w))", r"\\\1", text)


def instructor_report(course: CourseDir, submissions: list[dict]) -> tuple[str, str]:
    """`DIR/grading-report.md` and `DIR/grading-scores.png` from every stored submission."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_test: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    per_exercise: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    totals: dict[str, list[float]] = collections.defaultdict(list)
    failures = []
    for sub in submissions:
        score = 0.0
        for notebook, info in sorted(sub.get("notebooks", {}).items()):
            exercise_passed: dict[str, bool] = {}
            for r in info.get("results", []):
                exercise = r.get("exercise", r["grade_id"])
                exercise_passed[exercise] = exercise_passed.get(exercise, True) and bool(r["passed"])
            for exercise, passed in exercise_passed.items():
                per_exercise[(sub["assignment"], exercise)].append(passed)
            for r in info.get("results", []):
                per_test[(sub["assignment"], r["grade_id"])].append(bool(r["passed"]))
                score += r["points"]
                if not r["passed"]:
                    failures.append((sub["student"], sub["assignment"], r["grade_id"], r["reason"],
                                     r["message"].splitlines()[0][:120] if r["message"] else ""))
        totals[sub["assignment"]].append(score)
    max_scores = {sub["assignment"]: sub.get("max_score", 0.0) for sub in submissions}

    png = str(course.report_png)
    fig, axes = plt.subplots(1, max(1, len(totals)), figsize=(4 * max(1, len(totals)), 3), squeeze=False)
    for ax, (assignment, scores) in zip(axes[0], sorted(totals.items())):
        top = max_scores.get(assignment) or max(scores or [1.0])
        ax.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4c72b0")
        ax.set_title(f"{assignment} ({len(scores)} submissions)")
        ax.set_xlabel("score")
        ax.set_ylabel("students")
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=course.root, prefix=".tmp-", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, png)

    reasons = collections.Counter(reason for *_, reason, _ in failures)
    lines = ["# Grading report", ""]
    unsandboxed = sorted(f"{sub['student']}/{sub['assignment']}" for sub in submissions
                         if sub.get("sandboxed") is False)
    if unsandboxed:
        lines += [f"**{len(unsandboxed)} of {len(submissions)} submissions were GRADED WITHOUT A SANDBOX** "
                  "(`--no-sandbox`): their code ran with the grader's rights, files and network: "
                  + ", ".join(_cell_text(name) for name in unsandboxed), ""]
    lines += [f"{len(submissions)} submissions graded.", ""]
    lines += _review_section(submissions)
    lines += ["## Pass rate per exercise", "", "(an exercise passes when all its tests pass)", "",
             "| assignment | exercise | passed | pass rate |", "|---|---|---|---|"]
    for (assignment, exercise), outcomes in sorted(per_exercise.items()):
        lines.append(f"| {assignment} | {exercise} | {sum(outcomes)}/{len(outcomes)} | "
                     f"{100 * sum(outcomes) / len(outcomes):.0f}% |")
    lines += ["", "## Pass rate per test", "", "| assignment | test | passed | pass rate |", "|---|---|---|---|"]
    for (assignment, gid), outcomes in sorted(per_test.items()):
        lines.append(f"| {assignment} | {gid} | {sum(outcomes)}/{len(outcomes)} | "
                     f"{100 * sum(outcomes) / len(outcomes):.0f}% |")
    lines += ["", "## Scores", "", f"![score distribution]({os.path.basename(png)})", "",
              "| assignment | mean | min | max | out of |", "|---|---|---|---|---|"]
    for assignment, scores in sorted(totals.items()):
        lines.append(f"| {assignment} | {sum(scores) / len(scores):.2f} | {min(scores):g} | "
                     f"{max(scores):g} | {max_scores.get(assignment, 0):g} |")
    lines += ["", "## Why tests failed", "", "| reason | tests |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    lines += ["", "| student | assignment | test | reason | message |", "|---|---|---|---|---|"]
    for student, assignment, gid, reason, message in sorted(failures):
        lines.append(f"| {_cell_text(student)} | {_cell_text(assignment)} | {_cell_text(gid)} | {reason} | "
                     f"{_cell_text(message)} |")
    for sub in submissions:
        for notebook, info in sorted(sub.get("notebooks", {}).items()):
            if info.get("comment"):
                lines.append(f"\n- {_cell_text(sub['student'])} / {_cell_text(sub['assignment'])} / "
                             f"{_cell_text(notebook)}: {_cell_text(info['comment'])}")
    md = str(course.report_md)
    atomic_write(md, "\n".join(lines) + "\n")
    return md, png


def summary_table(submissions: list[dict], console=None) -> None:
    """Print one row per submission graded in this run: score and anything that went wrong."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="convlab grade")
    for column in ("student", "assignment", "score", "notes"):
        table.add_column(column)
    for sub in sorted(submissions, key=lambda s: (s["assignment"], s["student"])):
        notes = "; ".join(info["comment"] for info in sub.get("notebooks", {}).values() if info.get("comment"))
        # Text(), not markup: a student's name or a note is never read as rich markup.
        table.add_row(Text(sub["student"]), Text(sub["assignment"]), f"{sub['score']:g} / {sub['max_score']:g}",
                      Text(notes))
    (console or Console()).print(table)

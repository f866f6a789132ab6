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
from dataclasses import dataclass, field

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

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
                    rows.append(f"| {_cell_text(sub['student'])} | {_cell_text(sub['assignment'])} | "
                                f"{_cell_text(r['grade_id'])} | {_cell_text(why)} |")
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


@dataclass
class _Tally:
    """What the report counts over every stored submission."""

    per_test: dict = field(default_factory=lambda: collections.defaultdict(list))  # (assignment, test) -> [passed]
    per_exercise: dict = field(default_factory=lambda: collections.defaultdict(list))
    totals: dict = field(default_factory=lambda: collections.defaultdict(list))  # assignment -> [score]
    max_scores: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)  # (student, assignment, test, reason, message)
    # (assignment, exercise) -> Counter of what its failed tests got wrong (likely mistake, problem or reason)
    wrong: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))


def _tally(submissions: list[dict]) -> _Tally:
    tally = _Tally()
    for sub in submissions:
        assignment, score = sub["assignment"], 0.0
        tally.max_scores[assignment] = sub.get("max_score", 0.0)
        for _, info in sorted(sub.get("notebooks", {}).items()):
            exercise_passed: dict[str, bool] = {}
            for r in info.get("results", []):
                exercise = r.get("exercise", r["grade_id"])
                exercise_passed[exercise] = exercise_passed.get(exercise, True) and bool(r["passed"])
                tally.per_test[(assignment, r["grade_id"])].append(bool(r["passed"]))
                score += r["points"]
                if not r["passed"]:
                    message = " / ".join(line.strip() for line in (r["message"] or "").splitlines() if line.strip())
                    tally.failures.append((sub["student"], assignment, r["grade_id"], r["reason"], message[:300]))
                    tally.wrong[(assignment, exercise)][r.get("mistake") or r["reason"]] += 1
            for exercise, passed in exercise_passed.items():
                tally.per_exercise[(assignment, exercise)].append(passed)
        tally.totals[assignment].append(score)
    return tally


def _score_figure(course: CourseDir, tally: _Tally) -> str:
    """`DIR/grading-scores.png`: the score distribution of each assignment."""
    matplotlib.use("Agg")
    count = max(1, len(tally.totals))
    fig, axes = plt.subplots(1, count, figsize=(4 * count, 3), squeeze=False)
    for ax, (assignment, scores) in zip(axes[0], sorted(tally.totals.items())):
        top = tally.max_scores.get(assignment) or max(scores or [1.0])
        ax.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4c72b0")
        ax.set_title(f"{assignment} ({len(scores)} submissions)")
        ax.set_xlabel("score")
        ax.set_ylabel("students")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=course.root, prefix=".tmp-", suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, course.report_png)
    return str(course.report_png)


def _pass_rates(title: str, column: str, rates: dict, note: str = "") -> list[str]:
    lines = [note, ""] if note else []
    lines += [f"| assignment | {column} | passed | pass rate |", "|---|---|---|---|"]
    for (assignment, name), outcomes in sorted(rates.items()):
        lines.append(f"| {_cell_text(assignment)} | {_cell_text(name)} | {sum(outcomes)}/{len(outcomes)} | "
                     f"{100 * sum(outcomes) / len(outcomes):.0f}% |")
    return [f"## {title}", "", *lines, ""]


def _what_went_wrong(tally: _Tally) -> list[str]:
    """Per exercise, what the class's failed tests got wrong and how often, from the grader's own verdicts."""
    lines = ["## What the class got wrong", "", "(per failed test: the likely mistake the grader recognised, "
             "else what was wrong or why the test earned nothing)", "",
             "| assignment | exercise | failed tests | what, how often |", "|---|---|---|---|"]
    for (assignment, exercise), counts in sorted(tally.wrong.items()):
        what = ", ".join(f"{count} {_cell_text(name)}" for name, count in counts.most_common())
        lines.append(f"| {_cell_text(assignment)} | {_cell_text(exercise)} | {sum(counts.values())} | {what} |")
    return [*lines, ""] if tally.wrong else []


def _unsandboxed_banner(submissions: list[dict]) -> list[str]:
    unsandboxed = sorted(f"{sub['student']}/{sub['assignment']}" for sub in submissions
                         if sub.get("sandboxed") is False)
    if not unsandboxed:
        return []
    return [f"**{len(unsandboxed)} of {len(submissions)} submissions were GRADED WITHOUT A SANDBOX** "
            "(`--no-sandbox`): their code ran with the grader's rights, files and network: "
            + ", ".join(_cell_text(name) for name in unsandboxed), ""]


def _failures(tally: _Tally, submissions: list[dict]) -> list[str]:
    reasons = collections.Counter(reason for *_, reason, _ in tally.failures)
    lines = ["## Why tests failed", "", "| reason | tests |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    lines += ["", "| student | assignment | test | reason | message |", "|---|---|---|---|---|"]
    lines += [f"| {_cell_text(student)} | {_cell_text(assignment)} | {_cell_text(gid)} | {reason} | "
              f"{_cell_text(message)} |" for student, assignment, gid, reason, message in sorted(tally.failures)]
    for sub in submissions:
        for notebook, info in sorted(sub.get("notebooks", {}).items()):
            if info.get("comment"):
                lines.append(f"\n- {_cell_text(sub['student'])} / {_cell_text(sub['assignment'])} / "
                             f"{_cell_text(notebook)}: {_cell_text(info['comment'])}")
    return lines


def instructor_report(course: CourseDir, submissions: list[dict]) -> tuple[str, str]:
    """`DIR/grading-report.md` and `DIR/grading-scores.png` from every stored submission."""
    tally = _tally(submissions)
    png = _score_figure(course, tally)
    lines = ["# Grading report", "", *_unsandboxed_banner(submissions), f"{len(submissions)} submissions graded.", ""]
    lines += _review_section(submissions)
    lines += _pass_rates("Pass rate per exercise", "exercise", tally.per_exercise,
                         "(an exercise passes when all its tests pass)")
    lines += _what_went_wrong(tally)
    lines += _pass_rates("Pass rate per test", "test", tally.per_test)
    lines += ["## Scores", "", f"![score distribution]({os.path.basename(png)})", "",
              "| assignment | mean | min | max | out of |", "|---|---|---|---|---|"]
    for assignment, scores in sorted(tally.totals.items()):
        lines.append(f"| {_cell_text(assignment)} | {sum(scores) / len(scores):.2f} | {min(scores):g} | "
                     f"{max(scores):g} | {tally.max_scores.get(assignment, 0):g} |")
    lines += ["", *_failures(tally, submissions)]
    atomic_write(str(course.report_md), "\n".join(lines) + "\n")
    return str(course.report_md), png


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

"""What grading writes for people: the grader's verdict in each autograded test cell, grades.csv,
the instructor's report (pass rate per exercise, what the class got wrong, score figure, reasons
for failures) and the summary table printed at the end of a run.

Learners' feedback is nbgrader's own (`nbgrader generate_feedback`), made from the autograded
notebooks: each test cell shows the verdict's outcome, points and message, and never a hidden
test's source (`autograder.config.HideHiddenTests`, nbgrader issue #917).
"""
from __future__ import annotations

import collections
import copy
import html
import os
import re
import tempfile
from dataclasses import dataclass, field

import matplotlib
import matplotlib.pyplot as plt
import nbformat
from matplotlib.ticker import MaxNLocator
from nbgrader.preprocessors import ClearOutput, ClearSolutions

from autograder.cell_meta import grade_id
from autograder.coursedir import CourseDir
from convlab.i18n import _


def atomic_write(path: str, data: str | bytes) -> None:
    """Write the whole file or nothing (temp file, then os.replace): a killed run leaves no half file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def verdict_output(result: dict) -> nbformat.NotebookNode:
    """The grader's verdict on one test cell, as an output of that cell: nbgrader's feedback and
    formgrader show it under what the cell printed (its points come from the gradebook). Worded in
    the learner's language (`convlab.i18n`); `feedback` is the message in it where it is not English."""
    text = (_("convlab grade: passed, {points} / {max_points} points") if result["passed"] else
            _("convlab grade: failed, {points} / {max_points} points")).format(
        points=f"{result['points']:g}", max_points=f"{result['max_points']:g}")
    message = "" if result["passed"] else (result.get("feedback") or result["message"] or "")
    colour = "#1a7f37" if result["passed"] else "#cf222e"
    page = (f"<div class='convlab-verdict' style='border-left: 4px solid {colour}; padding: .3em .6em'>"
            f"<b style='color: {colour}'>{html.escape(text)}</b>"
            + (f"<pre style='white-space: pre-wrap; margin: .3em 0 0'>{html.escape(message)}</pre>" if message else "")
            + "</div>")
    return nbformat.v4.new_output("display_data", data={"text/plain": text + ("\n" + message if message else ""),
                                                        "text/html": page})


def stand_in(source: nbformat.NotebookNode, why: str) -> nbformat.NotebookNode:
    """What autograded/ holds for a notebook the grader could not read: the assignment as released
    (solutions cleared by nbgrader, outputs removed), headed by why, to carry the verdicts."""
    nb = copy.deepcopy(source)
    resources = {}
    for preprocessor in (ClearSolutions(), ClearOutput()):
        nb, resources = preprocessor.preprocess(nb, resources)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(_(
        "**This notebook could not be graded:** {why}. Below is the assignment as released, "
        "with the grader's verdicts.").format(why=_cell_text(why))))
    return nb


def with_verdicts(nb: nbformat.NotebookNode, results: list[dict]) -> nbformat.NotebookNode:
    """`nb` with each graded test cell's verdict appended to its outputs."""
    by_cell = {r["grade_id"]: r for r in results}
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        result = by_cell.get(grade_id(cell)) if cell.cell_type == "code" else None
        if result is not None:
            cell.outputs = [*cell.get("outputs", []), verdict_output(result)]
    return nb


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
    failures: list = field(default_factory=list)  # (student, assignment, test, reason, message, review flags)
    # (assignment, exercise) -> Counter of what its failed tests got wrong (likely mistake, problem or reason)
    wrong: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))
    # (assignment, exercise) -> Counter, one per student who failed it: what its first failed test got wrong
    failed_by: dict = field(default_factory=lambda: collections.defaultdict(collections.Counter))


def _what_was_wrong(result: dict) -> str:
    """The likely mistake the grader recognised; else why the test earned nothing ('unrecognised'
    for a wrong answer whose mistake it could not name)."""
    return result.get("mistake") or ("unrecognised" if result["reason"] == "failed" else result["reason"])


def _tally(submissions: list[dict]) -> _Tally:
    tally = _Tally()
    for sub in submissions:
        assignment, score = sub["assignment"], 0.0
        tally.max_scores[assignment] = sub.get("max_score", 0.0)
        for _notebook, info in sorted(sub.get("notebooks", {}).items()):
            exercise_passed: dict[str, bool] = {}
            for r in info.get("results", []):
                exercise = r.get("exercise", r["grade_id"])
                if not r["passed"] and exercise_passed.get(exercise, True):
                    tally.failed_by[(assignment, exercise)][_what_was_wrong(r)] += 1
                exercise_passed[exercise] = exercise_passed.get(exercise, True) and bool(r["passed"])
                tally.per_test[(assignment, r["grade_id"])].append(bool(r["passed"]))
                score += r["points"]
                if not r["passed"]:
                    message = " / ".join(line.strip() for line in (r["message"] or "").splitlines() if line.strip())
                    tally.failures.append((sub["student"], assignment, r["grade_id"], r["reason"], message[:300],
                                           "; ".join(r.get("review", []))))
                    tally.wrong[(assignment, exercise)][_what_was_wrong(r)] += 1
            for exercise, passed in exercise_passed.items():
                tally.per_exercise[(assignment, exercise)].append(passed)
        tally.totals[assignment].append(score)
    return tally


TOP_MISTAKES = 3
PASSED_COLOUR = "#2da44e"


def _bars(tally: _Tally, assignment: str) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Per exercise of `assignment`: its name, how many passed, and its top failures (what, how many)."""
    bars = []
    for (name, exercise), outcomes in sorted(tally.per_exercise.items()):
        if name != assignment:
            continue
        counts = tally.failed_by[(name, exercise)].most_common()
        top = counts[:TOP_MISTAKES] + ([("other", sum(n for _, n in counts[TOP_MISTAKES:]))]
                                       if len(counts) > TOP_MISTAKES else [])
        bars.append((exercise, sum(outcomes), top))
    return bars


def _draw_assignment(ax, assignment: str, bars: list, tally: _Tally, colours: dict, palette) -> None:
    """One bar per exercise (`_bars`): passed, then each top mistake, in whole students."""
    for row, (exercise, passed, top) in enumerate(bars):
        left = 0
        for what, count in [("passed", passed), *top]:
            new = what not in colours
            colour = colours.setdefault(what, PASSED_COLOUR if what == "passed" else next(palette))
            ax.barh(row, count, left=left, color=colour, label=what if new else None)
            left += count
        ax.text(left + 0.1, row, f"{passed}/{len(tally.per_exercise[(assignment, exercise)])} passed",
                va="center", fontsize=8)
    ax.set_yticks(range(len(bars)), [exercise for exercise, _, _ in bars])
    ax.invert_yaxis()
    ax.set_title(f"{assignment} ({len(tally.totals.get(assignment, []))} submissions)", loc="left", fontsize=10)
    ax.set_xlabel("students")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    ax.set_xlim(0, max([len(tally.per_exercise[(assignment, e)]) for e, _, _ in bars] or [1]) * 1.3)


def _score_figure(course: CourseDir, tally: _Tally) -> str:
    """`DIR/grading-scores.png`: per assignment, one bar per exercise — the students who passed it,
    then those who failed it split by their most common mistakes."""
    matplotlib.use("Agg")
    assignments = sorted(tally.totals) or [""]
    bars = {a: _bars(tally, a) for a in assignments}
    heights = [max(1, len(bars[a])) * 0.45 + 0.9 for a in assignments]
    fig, axes = plt.subplots(len(assignments), 1, figsize=(10, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    tab10 = plt.get_cmap("tab10").colors
    colours, palette = {}, iter([c for i, c in enumerate(tab10) if i != 2] * 10)  # green means passed
    for ax, assignment in zip(axes[:, 0], assignments):
        _draw_assignment(ax, assignment, bars[assignment], tally, colours, palette)
    handles = [h for ax in axes[:, 0] for h in ax.get_legend_handles_labels()[0]]
    if handles:
        fig.legend(handles=handles, loc="upper right", fontsize=8, title="what went wrong")
    fig.tight_layout(rect=(0, 0, 0.75, 1))
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
    reasons = collections.Counter(reason for _, _, _, reason, _, _ in tally.failures)
    lines = ["## Why tests failed", "", "| reason | tests |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
    lines += ["", "| student | assignment | test | reason | message | review flag |", "|---|---|---|---|---|---|"]
    lines += [f"| {_cell_text(student)} | {_cell_text(assignment)} | {_cell_text(gid)} | {reason} | "
              f"{_cell_text(message)} | {_cell_text(flags)} |"
              for student, assignment, gid, reason, message, flags in sorted(tally.failures)]
    for sub in submissions:
        for notebook, info in sorted(sub.get("notebooks", {}).items()):
            if info.get("comment"):
                lines.append(f"\n- {_cell_text(sub['student'])} / {_cell_text(sub['assignment'])} / "
                             f"{_cell_text(notebook)}: {_cell_text(info['comment'])}")
    return lines


def _integrity_section(course: CourseDir, submissions: list[dict]) -> list[str]:
    """Pairs of students whose answers, or wrong outputs, are the same, and answers that are the
    course's code (`integrity`); also in `DIR/integrity.csv`. Common groups are counted, not listed."""
    from autograder.grading import integrity

    try:
        found, commons = integrity.signals(course, submissions)
    except Exception as error:  # what a submission holds must not cost the class its report
        return ["## Integrity signals", "", f"They could not be computed: {_cell_text(f'{type(error).__name__}: {error}')}",
                ""]
    integrity.write_csv(course, found)
    if not found and not commons:
        return []
    lines = ["## Integrity signals", "", "Never a change of points: a person decides. One row per signal "
             "(also in `integrity.csv`); what many share is counted below, not listed.", ""]
    if found:
        lines += ["| assignment | exercise | signal | students | evidence |", "|---|---|---|---|---|"]
        lines += [f"| {_cell_text(s.assignment)} | {_cell_text(s.exercise)} | {s.kind} | "
                  f"{_cell_text(', '.join(s.students))} | {_cell_text(s.evidence)} |" for s in found]
        lines.append("")
    if commons:
        lines += ["Shared by many (no signal):", "", "| assignment | exercise | shared | students | what |",
                  "|---|---|---|---|---|"]
        lines += [f"| {_cell_text(c.assignment)} | {_cell_text(c.exercise)} | {c.kind} | {c.count} | "
                  f"{_cell_text(c.evidence)} |" for c in commons]
        lines.append("")
    return lines


def _late_section(submissions: list[dict]) -> list[str]:
    """Every late submission: how late against which due date (extension included), what the
    course's late rule deducted per notebook, and the rule."""
    late = [sub for sub in submissions if sub.get("late")]
    if not late:
        return []
    from autograder.grading.late import duration

    rows = []
    for sub in sorted(late, key=lambda s: (s["assignment"], s["student"])):
        info = sub["late"]
        extension = duration(info["extension_seconds"]) if info["extension_seconds"] else "none"
        deducted = ", ".join(f"{_cell_text(nb)}: {points:g}" for nb, points in sorted(info["penalty"].items()))
        rows.append(f"| {_cell_text(sub['student'])} | {_cell_text(sub['assignment'])} | "
                    f"{duration(info['seconds_late'])} | {info['due']} | {extension} | {deducted} |")
    return ["## Late submissions", "", f"Rule: `{late[0]['late']['rule']}` (nbgrader's AssignLatePenalties, "
            "the course's nbgrader_config.py); scores above are before the deduction.", "",
            "| student | assignment | late by | due (with extension) | extension | deducted |",
            "|---|---|---|---|---|---|", *rows, ""]


def _audit_mark(audit, cell: str, label: str) -> str:
    """'✓ / ✗': whether the visible and the hidden part of test cell `cell` catch the mutant `label`
    ('–' for a part the cell lacks); '' where the cell does not test the exercise."""
    parts = {test.hidden: test for test in audit.tests if test.cell == cell}
    if not parts:
        return ""
    return " / ".join(("✓" if label in audit.caught[parts[hidden]] else "✗") if hidden in parts else "–"
                      for hidden in (False, True))


def _audit_table(assignment: str, path) -> list[str]:
    """One notebook's audit as a markdown table: mutants as rows, test cells as columns."""
    from autograder.mutants import audit_notebook, short

    title = f"### {_cell_text(assignment)}" + (f" ({_cell_text(path.name)})" if path.stem != assignment else "")
    try:
        audits = audit_notebook(nbformat.read(str(path), as_version=4))
    except Exception as error:  # a broken check must not cost the grades their report
        return [title, "", f"The audit could not run: {_cell_text(f'{type(error).__name__}: {error}')}", ""]
    cells = list(dict.fromkeys(test.cell for audit in audits for test in audit.tests))
    if not cells:
        return []
    points = {test.cell: test.points for audit in audits for test in audit.tests}
    heads = [f"{_cell_text(c)} ({points[c]:g} point{'' if points[c] == 1 else 's'})" for c in cells]
    lines = [title, "", f"| exercise | mutant | {' | '.join(heads)} |", "|---|---|" + "---|" * len(cells)]
    for audit in audits:
        exercise = _cell_text(audit.exercise.split(".", 1)[-1])
        lines += [f"| {exercise if i == 0 else ''} | {_cell_text(short(label))} | "
                  + " | ".join(_audit_mark(audit, c, label) for c in cells) + " |"
                  for i, label in enumerate(audit.mutants)]
    problems = [line for audit in audits for line in audit.problems()]
    return [*lines, "", *(f"- **{_cell_text(line)}**" for line in problems), *([""] if problems else [])]


def _audit_section(course: CourseDir, submissions: list[dict]) -> list[str]:
    """Per assignment graded, which mutants of each exercise's answer its test cells catch
    (`autograder.mutants`), from the course's source notebooks, whose hidden tests the grader ran."""
    assignments = sorted({sub["assignment"] for sub in submissions})
    tables = [line for assignment in assignments for path in sorted(course.source(assignment).glob("*.ipynb"))
              for line in _audit_table(assignment, path)]
    if not tables:
        return []
    return ["## What the tests catch", "", "Each exercise's answer mutated (its named mistakes; the right answer "
            "with its last row dropped, its last two axes swapped, zeros, + 1e-2; ints off by one) and run through "
            "its test cells' check calls with their seeds and cases as written (the grader's own calls draw fresh "
            "seeds, as many cases). Each cell: visible / hidden part, ✓ caught, ✗ slipped through, – no such part.",
            "", *tables]


def instructor_report(course: CourseDir, submissions: list[dict]) -> tuple[str, str]:
    """`DIR/grading-report.md` and `DIR/grading-scores.png` from every stored submission."""
    tally = _tally(submissions)
    png = _score_figure(course, tally)
    lines = ["# Grading report", "", *_unsandboxed_banner(submissions), f"{len(submissions)} submissions graded.", ""]
    lines += _review_section(submissions)
    lines += _integrity_section(course, submissions)
    lines += _late_section(submissions)
    lines += [f"![pass rate and mistakes per exercise]({os.path.basename(png)})", ""]
    lines += _pass_rates("Pass rate per exercise", "exercise", tally.per_exercise,
                         "(an exercise passes when all its tests pass)")
    lines += _what_went_wrong(tally)
    lines += _pass_rates("Pass rate per test", "test", tally.per_test)
    lines += _audit_section(course, submissions)
    lines += ["## Scores", "", "| assignment | mean | min | max | out of |", "|---|---|---|---|---|"]
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
        if sub.get("late"):
            notes = "; ".join(filter(None, [f"late: -{sum(sub['late']['penalty'].values()):g}", notes]))
        # Text(), not markup: a student's name or a note is never read as rich markup.
        table.add_row(Text(sub["student"]), Text(sub["assignment"]), f"{sub['score']:g} / {sub['max_score']:g}",
                      Text(notes))
    (console or Console()).print(table)

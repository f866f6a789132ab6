"""Every lesson notebook: solutions run clean, released lessons fail only at their tests, grading works.

Parametrized over `solutions/*/*.ipynb`, so a new lesson is covered as soon as its notebook lands.
Each notebook runs in a fresh kernel, as a learner's would.
"""
from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
LESSONS = sorted((ROOT / "lessons").glob("*/*.ipynb"))
ZH_LESSONS = sorted((ROOT / "lessons" / "zh").glob("*/*.ipynb"))
# Per-cell limit for nbclient. Now and then the client sees a finished cell's reply only when its
# wait times out (seen once in ~30 runs, the reply stamped seconds earlier by the kernel), so a
# shorter limit bounds that stall; no cell in the course needs more than a few seconds.
CELL_TIMEOUT = 120
# What a test cell says of an exercise not answered yet, in each edition's language (or the stub's own error).
UNANSWERED = {"en": re.compile(r"not answered yet|NotImplementedError"), "zh": re.compile(r"尚未作答|NotImplementedError")}


def _ids(paths):
    return [path.parent.name for path in paths]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test(cell) -> bool:
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_answer(cell) -> bool:
    meta = _meta(cell)
    return cell.cell_type == "code" and bool(meta.get("solution")) and not meta.get("grade")


def _read(path: Path):
    return nbformat.read(str(path), as_version=4)


def _execute(path: Path, allow_errors: bool):
    """Run the notebook top to bottom in a fresh kernel, in its own folder; return it and the seconds taken."""
    from autograder.inside.kernel_waits import SteadyNotebookClient as NotebookClient

    nb = _read(path)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


# What a cell shows when it prints an iterator or a generator instead of its values.
OBJECT_REPR = re.compile(r"<(?:generator|map|zip|filter|itertools\.\w+) object at 0x[0-9a-f]+>")


def _errors(cell) -> list:
    return [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def _calls_a_check(source: str) -> bool:
    """True when the cell calls `check.NAME(...)` or `answer(...)` (hidden part included)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "check":
                return True
            if isinstance(func, ast.Name) and func.id == "answer":
                return True
    return False


def _asks_a_question(source: str) -> bool:
    """True when the test cell only calls a lesson's Question (`check.output_shape(output_shape())`)."""
    return bool(re.fullmatch(r"from convlab\.checks import lesson\d\d as check\n\ncheck\.(\w+)\(\1\(\)\)\s*", source))


def _region(source: str, begin: str, end: str) -> str:
    match = re.search(rf"### {begin}\n(.*?)### {end}", source, flags=re.S)
    return match.group(1) if match else ""


def test_there_are_lessons():
    assert SOLUTIONS, "no solutions/NN_topic/NN_topic.ipynb found"
    for path in SOLUTIONS:
        assert path.stem == path.parent.name, f"{path}: notebook must be named after its folder"
        assert re.fullmatch(r"\d\d_[a-z0-9_]+", path.stem), f"{path}: folder must be NN_topic"


@pytest.mark.parametrize("path", SOLUTIONS + LESSONS + ZH_LESSONS, ids=[f"solutions/{i}" for i in _ids(SOLUTIONS)]
                         + [f"lessons/{i}" for i in _ids(LESSONS)] + [f"lessons/zh/{i}" for i in _ids(ZH_LESSONS)])
def test_format_and_outputs_stripped(path):
    raw = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
    assert (raw.nbformat, raw.nbformat_minor) >= (4, 5), f"{path}: nbformat {raw.nbformat}.{raw.nbformat_minor}"
    nbformat.validate(raw)
    assert raw.metadata.get("kernelspec", {}).get("name") == "python3", f"{path}: kernel spec must be python3"
    for index, cell in enumerate(raw.cells):
        assert cell.get("id"), f"{path}: cell {index} has no id"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path}: cell {index} has outputs; strip them before committing"
            assert cell.execution_count is None, f"{path}: cell {index} has an execution_count"


@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_nbgrader_cells(path):
    """Answer cells carry a solution; test cells carry points, call a check and hide a seed."""
    nb = _read(path)
    answers = [cell for cell in nb.cells if _is_answer(cell)]
    tests = [cell for cell in nb.cells if _is_test(cell)]
    assert answers and tests, f"{path.name}: no autograded exercises"
    ids = [_meta(cell).get("grade_id") for cell in nb.cells if _meta(cell)]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id in {ids}"
    for cell in nb.cells:
        meta = _meta(cell)
        if meta:
            assert meta.get("schema_version") == 3, f"{path.name}: {meta.get('grade_id')}: schema_version"
    for cell in answers:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, \
            f"{path.name}: answer cell {_meta(cell)['grade_id']} has no solution region"
    for cell in tests:
        name = _meta(cell)["grade_id"]
        assert _meta(cell).get("locked") and _meta(cell).get("points", 0) > 0, f"{path.name}: {name}: locked, points"
        assert _calls_a_check(cell.source), f"{path.name}: test cell {name} calls no check"
        hidden = _region(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
        if _asks_a_question(cell.source):  # one answer, computed in the check module: nothing to hide
            continue
        assert hidden.strip(), f"{path.name}: test cell {name} has no hidden tests"
        visible = cell.source.replace(hidden, "")
        for seed in re.findall(r"seed\s*=\s*(\d+)", hidden):
            assert not re.search(rf"\b{seed}\b", visible), f"{path.name}: {name}: hidden seed {seed} is visible"


@pytest.fixture(scope="module")
def zh_solutions(tmp_path_factory) -> Path:
    """The instructor notebooks of the Chinese edition, as `convlab build` makes them."""
    from autograder.authoring.build import edition_sources

    where = tmp_path_factory.mktemp("zh-solutions")
    edition_sources(ROOT / "solutions", where, "zh")
    return where


def test_both_editions_hold_every_lesson():
    assert _ids(ZH_LESSONS) == _ids(LESSONS) == _ids(SOLUTIONS)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", SOLUTIONS, ids=_ids(SOLUTIONS))
def test_solution_runs_clean(path, lang, request, monkeypatch):
    """The instructor's notebook runs top to bottom, every test cell (hidden tests included) passes."""
    if lang == "zh":
        path = request.getfixturevalue("zh_solutions") / path.parent.name / path.name
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # as JupyterLab names the kernel's notebook
    nb, _ = _execute(path, allow_errors=True)
    failed = [f"cell {index} ({_meta(cell).get('grade_id', cell.source[:40])!r}): "
              f"{err['ename']}: {err['evalue'][:200]}"
              for index, cell in enumerate(nb.cells) for err in _errors(cell)]
    assert not failed, f"{path.name}:\n" + "\n".join(failed)
    reprs = [f"cell {index}: {match}" for index, cell in enumerate(nb.cells) for out in cell.get("outputs", [])
             for match in OBJECT_REPR.findall(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")))]
    assert not reprs, f"{path.name} prints objects a learner cannot read: {reprs}"


@pytest.mark.parametrize("path", LESSONS + ZH_LESSONS, ids=_ids(LESSONS) + [f"zh/{i}" for i in _ids(ZH_LESSONS)])
def test_blank_lesson_fails_only_at_its_tests(path, monkeypatch):
    """Unanswered, a learner's notebook breaks nowhere but at the exercise tests, which say so in its language."""
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    lang = "zh" if path.is_relative_to(ROOT / "lessons" / "zh") else "en"
    unanswered = UNANSWERED[lang]
    nb, _ = _execute(path, allow_errors=True)
    problems = []
    for index, cell in enumerate(nb.cells):
        errors = _errors(cell)
        name = _meta(cell).get("grade_id", f"cell {index}")
        if _is_test(cell):
            if not errors:
                problems.append(f"{name}: passes with the exercise unanswered")
            for err in errors:
                text = f"{err['ename']}: {err['evalue']}"
                if not unanswered.search(text):
                    problems.append(f"{name}: fails without saying it is unanswered: {text[:200]}")
                elif lang != "en" and UNANSWERED["en"].pattern.split("|")[0] in text:
                    problems.append(f"{name}: says it is unanswered in English: {text[:200]}")
        elif errors:
            problems.append(f"{name}: {errors[0]['ename']}: {errors[0]['evalue'][:200]}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course made by `convlab new-course`, with a correct and a blank submission of every lesson."""
    from coursekit import convlab, solution_answers, write_submission

    course = tmp_path_factory.mktemp("course") / "course"
    result = convlab("new-course", str(course), cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for path in SOLUTIONS:
        name = path.parent.name
        write_submission(course, "correct", solution_answers(course, name), assignment=name)
        write_submission(course, "blank", {}, assignment=name)
    return course


@pytest.mark.parametrize("name", _ids(SOLUTIONS))
def test_plain_nbgrader_grades_correct_full_and_blank_zero(course, name):
    from coursekit import nbgrader, scores

    result = nbgrader(course, "autograde", name, "--force")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    nb = _read(course / "source" / name / f"{name}.ipynb")
    possible = {_meta(cell)["grade_id"]: float(_meta(cell)["points"]) for cell in nb.cells if _is_test(cell)}
    correct, blank = scores(course, "correct", name), scores(course, "blank", name)
    lost = {cell: (correct.get(cell), points) for cell, points in possible.items() if correct.get(cell) != points}
    assert not lost, f"{name}: the solution lost points (got, possible): {lost}\n{result.stderr[-2000:]}"
    earned = {cell: score for cell, score in blank.items() if cell in possible and score}
    assert not earned, f"{name}: a blank submission earned points: {earned}"

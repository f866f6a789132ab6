"""The registry: every lesson's exercises, named by where they are bound, and the docs rendered from it."""
from pathlib import Path

import pytest

from convlab.checks import lesson01, lesson03, lesson10, registry
from convlab.checks.exercise_docs import render

pytestmark = pytest.mark.grading

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exercises.md"


def test_every_exercise_is_named_by_its_module_and_attribute():
    found = registry.exercises()
    assert found["lesson01.corr2d"] is lesson01.corr2d and found["lesson10.conv2d_backward"] is lesson10.conv2d_backward
    assert len(found) == 35 and all(registry.find(name) is exercise for name, exercise in found.items())


def test_a_name_that_is_no_exercise_is_not_found():
    for check in ("lesson01.nothing", "lesson99.corr2d", "lesson01.F", "lesson01", "os.system", None):
        assert registry.find(check) is None, check


def test_an_alias_or_a_second_instance_is_refused(monkeypatch):
    monkeypatch.setattr(lesson03, "conv2d_again", type(lesson03.conv2d)(), raising=False)
    with pytest.raises(registry.RegistryError, match="lesson03.conv2d_again is named 'lesson03.conv2d'"):
        registry.exercises()


def test_entries_hold_parameters_bans_and_the_solutions_points():
    entries = {e.name: e for e in registry.entries()}
    corr2d = entries["lesson01.corr2d"]
    assert corr2d.parameters == ("X", "K") and corr2d.points == 4 and corr2d.lesson == "01"
    assert "convlab.naive.corr2d" in corr2d.banned_references and "padding" not in corr2d.banned_kernels
    assert "padding" in entries["lesson02.pad"].banned_kernels
    assert "convlab.functional.conv2d (grouped calls)" in entries["lesson08.conv2d"].banned_references
    assert all(e.points for e in entries.values()), [e.name for e in entries.values() if not e.points]


def test_points_are_none_without_solutions(tmp_path):
    assert {e.points for e in registry.entries(tmp_path)} == {None}


def test_the_docs_are_what_the_registry_renders():
    assert DOCS.read_text() == render(registry.entries(), registry.questions()), \
        "run `convlab build`"


def test_every_exercise_lists_its_banned_references_in_the_docs():
    doc = DOCS.read_text()
    for name, exercise in registry.exercises().items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| `{name}` |"))
        for reference in exercise.references:
            reference = reference[0] if isinstance(reference, tuple) else reference
            assert f"`{reference}`" in row, f"docs/exercises.md does not list {reference} for {name}"


@pytest.mark.parametrize("call, refused", [("check.corr2d(corr2d)", False), ("check.corr2dd(corr2d)", True),
                                           ("check.F(corr2d)", True)])
def test_the_build_refuses_a_test_cell_calling_no_registered_exercise(tmp_path, call, refused):
    nbformat = pytest.importorskip("nbformat")
    from autograder.authoring.build import ungradable_tests

    test = nbformat.v4.new_code_cell(f"from convlab.checks import lesson01 as check\n{call}")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "corr2d_test", "locked": True, "points": 1,
                                 "schema_version": 3, "solution": False, "task": False}
    nb = nbformat.v4.new_notebook()
    nb.cells = [test]
    (tmp_path / "ps1").mkdir()
    nbformat.write(nb, str(tmp_path / "ps1" / "ps1.ipynb"))
    problems = ungradable_tests(tmp_path)
    assert problems == ([f"ps1/ps1.ipynb: test cell 'corr2d_test' calls lesson01.{call[6:call.index('(')]}, "
                         "which is no exercise of convlab.checks"] if refused else []), problems

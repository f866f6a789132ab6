"""`convlab build`: student notebooks in lessons/ generated from solutions/ by nbgrader.

Each folder of solutions/ holding a notebook is an nbgrader assignment. They are copied into
a temporary course's source/, released with nbgrader's GenerateAssignment (Python API), and
release/ becomes lessons/. Other files in a lesson folder (small data) travel with it.
"""
from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from pathlib import Path

from autograder.coursedir import CourseDir

# Never part of a lesson: Jupyter's and Python's caches, wherever they appear, and translations
# (`autograder.authoring.translations`: they make the other editions, they are no lesson's data).
IGNORED = (".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store", "*.yml")


class BuildError(RuntimeError):
    """nbgrader refused an assignment; the message carries nbgrader's own explanation."""


def assignment_names(solutions: Path) -> list[str]:
    """Folders of `solutions` that hold at least one notebook, sorted."""
    if not solutions.is_dir():
        raise BuildError(f"solutions: no such directory: {str(solutions)!r}")
    return sorted(
        entry.name for entry in solutions.iterdir()
        if entry.is_dir() and not entry.name.startswith((".", "_")) and any(entry.glob("*.ipynb"))
    )


def copy_sources(solutions: Path, source: Path) -> list[str]:
    """Copy every assignment folder of `solutions` into an nbgrader `source/` folder."""
    names = assignment_names(solutions)
    for name in names:
        shutil.copytree(solutions / name, source / name, ignore=shutil.ignore_patterns(*IGNORED))
    return names


def release(course: Path, names: list[str]) -> None:
    """Run nbgrader's generate_assignment for each assignment of the course at `course`."""
    from nbgrader.apps import NbGraderAPI

    from autograder.config import nbgrader_config
    from autograder.interpreter import put_environment_on_path

    put_environment_on_path()
    api = NbGraderAPI(config=nbgrader_config(course))
    for name in names:
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            detail = nbgrader_error(result.get("log") or "") or result.get("error") or "no detail"
            raise BuildError(f"nbgrader generate_assignment failed for {name!r}:\n{detail}")


def nbgrader_error(log: str) -> str:
    """The first error nbgrader logged, and the exception that ended its traceback, if any."""
    entries: list[list[str]] = []
    for line in log.splitlines():
        if line.startswith("[") or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    errors = [entry for entry in entries if entry[0].startswith("[ERROR]")]
    if not errors:
        return ""
    summary = "\n".join(errors[0]).rstrip()
    tracebacks = [entry for entry in errors if "Traceback" in entry[0]]
    if tracebacks:
        last = [line.strip() for line in tracebacks[0] if line.strip()][-1]
        summary += f"\n{last}"
    return summary


def ungradable_tests(solutions: Path) -> list[str]:
    """One line per test cell of `solutions` that makes no check call the grader can make itself
    (`autograder.grading.verification.check_calls`), or calls a check that is no registered exercise
    (`convlab.checks.registry`): such a cell would score zero for every learner."""
    import nbformat

    from autograder import cell_meta
    from autograder.grading.verification import check_calls
    from convlab.checks import registry  # here, not at the top: the other commands need no torch
    from convlab.checks.record import question_of

    lines = []
    for name in assignment_names(solutions):
        for path in sorted((solutions / name).glob("*.ipynb")):
            nb = nbformat.read(str(path), as_version=4)
            for cell in filter(cell_meta.is_test_cell, nb.cells):
                where = f"{name}/{path.name}: test cell {cell_meta.grade_id(cell)!r}"
                calls = check_calls(cell.source)
                if not calls:
                    lines.append(f"{where} makes no check call the grader recognises (`check.NAME(fn, seed=N, "
                                 "cases=N)` after `from convlab.checks import lessonNN as check`, or "
                                 "`answer(\"question\", value, expected)`)")
                lines += [f"{where} calls {call.check}, which is no exercise of convlab.checks" for call in calls
                          if question_of(call.check) is None and registry.find(call.check) is None]
    return lines


def _release_into(solutions: Path, dest: Path) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="convlab-build-") as tmp:
        course = CourseDir(tmp)
        names = copy_sources(solutions, course.source())
        release(course.root, names)
        for name in names:
            shutil.copytree(course.release(name), dest / name,
                            ignore=shutil.ignore_patterns(*IGNORED))
    return names


def edition_sources(solutions: Path, dest: Path, lang: str) -> None:
    """The instructor notebooks of the `lang` edition, written into `dest`; refuses (BuildError)
    a stale, missing or code-changing translation, naming the cell."""
    from autograder.authoring import translations

    names = [name for name in assignment_names(solutions) if translations.translated(solutions / name, lang)]
    problems = translations.translated_solutions(solutions, dest, lang, names)
    if problems:
        raise BuildError(f"the {translations.LANGUAGES[lang]} edition ({lang}):\n" + "\n".join(problems))


def weak_tests(solutions: Path) -> list[str]:
    """One line per exercise of `solutions` whose hidden tests catch fewer mutants of its answer than its
    visible ones, or whose check fails the right answer (`autograder.authoring.audit`)."""
    from autograder.authoring import audit
    from autograder.mutants import AuditError

    try:
        return audit.problems(solutions)
    except AuditError as error:
        raise BuildError(f"the audit of the tests could not run: {error}") from error


def generate(solutions: Path, dest: Path) -> list[str]:
    """Write the released lessons (one folder per assignment) into the empty folder `dest`, and each
    translated edition into `dest/<lang>/`; refuses (BuildError) a test cell the grader could not run,
    and an exercise whose hidden tests catch less than its visible ones."""
    from autograder.authoring import translations

    problems = ungradable_tests(solutions)
    if problems:
        raise BuildError("\n".join(problems))
    problems = weak_tests(solutions)
    if problems:
        raise BuildError("\n".join(problems) + "\n(`convlab audit LESSON` shows what each test cell catches)")
    names = _release_into(solutions, dest)
    for lang in translations.LANGUAGES:
        with tempfile.TemporaryDirectory(prefix=f"convlab-{lang}-") as tmp:
            edition_sources(solutions, Path(tmp), lang)
            if any(Path(tmp).iterdir()):
                _release_into(Path(tmp), dest / lang)
    return names


def tree(folder: Path) -> set[str]:
    """Relative paths of the files under `folder`'s lesson folders (top-level files are not lessons)."""
    found = set()
    if not folder.is_dir():
        return found
    for lesson in folder.iterdir():
        if not lesson.is_dir() or lesson.name in IGNORED:
            continue
        for dirpath, dirnames, filenames in os.walk(lesson):
            dirnames[:] = [d for d in dirnames if d not in IGNORED]
            for filename in filenames:
                if not any(Path(filename).match(pattern) for pattern in IGNORED):
                    found.add(Path(dirpath, filename).relative_to(folder).as_posix())
    return found


def differences(expected: Path, actual: Path) -> list[str]:
    """One line per file that is missing from, extra in, or different in `actual`."""
    want, have = tree(expected), tree(actual)
    lines = [f"missing: {path}" for path in sorted(want - have)]
    lines += [f"extra: {path}" for path in sorted(have - want)]
    lines += [
        f"different: {path}" for path in sorted(want & have)
        if not filecmp.cmp(expected / path, actual / path, shallow=False)
    ]
    return lines


def stale(solutions: Path, lessons: Path) -> list[str]:
    """What `build` would change in `lessons` (paths relative to it); empty when up to date."""
    with tempfile.TemporaryDirectory(prefix="convlab-lessons-") as tmp:
        generate(solutions, Path(tmp))
        return differences(Path(tmp), lessons)


def build(solutions: Path, lessons: Path) -> list[str]:
    """Make `lessons` match what nbgrader generates from `solutions`; returns the lesson names.

    Only files that differ are written, and files no lesson produces are removed, so an up-to-date
    tree is left untouched. Top-level files of `lessons` (a README) are not lessons and stay.
    """
    with tempfile.TemporaryDirectory(prefix="convlab-lessons-") as tmp:
        fresh = Path(tmp)
        names = generate(solutions, fresh)
        lessons.mkdir(parents=True, exist_ok=True)
        want, have = tree(fresh), tree(lessons)
        for path in sorted(have - want):
            (lessons / path).unlink()
        for path in sorted(want):
            target = lessons / path
            if path in have and filecmp.cmp(fresh / path, target, shallow=False):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / path, target)
        _remove_empty_folders(lessons)
    return names


def _remove_empty_folders(folder: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(folder), key=lambda entry: -len(entry[0])):
        path = Path(dirpath)
        if path != folder and not any(path.iterdir()):
            path.rmdir()

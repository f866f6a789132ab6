"""The `convlab` command line: argument parsing only; each subcommand's work lives in its own module."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from autograder import defaults
from autograder.sandbox import BACKENDS


class UsageError(Exception):
    """A mistake in what the user asked for: reported on stderr as one line, exit status 2."""


class CommandError(Exception):
    """The command could not do its work (nbgrader refused a notebook): stderr, exit status 1."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _cmd_build(args: argparse.Namespace) -> int:
    from autograder.authoring import derived
    from autograder.authoring.build import BuildError, build, stale

    root = _project_root(args.root)
    if args.check:
        try:
            problems = stale(root / "solutions", root / "lessons")
        except BuildError as error:
            raise CommandError(str(error)) from error
        documents = derived.stale(root)
        for line in problems + [f"{path}: not what the code renders" for path in documents]:
            print(line)
        if problems or documents:
            print(f"stale: {len(problems)} difference(s) in lessons/, {len(documents)} derived document(s); "
                  "run `convlab build`", file=sys.stderr)
            return 1
        print("lessons/ and the derived documents are up to date")
        return 0
    try:
        written = build(root / "solutions", root / "lessons")
    except BuildError as error:
        raise CommandError(str(error)) from error
    print(f"built {len(written)} lesson(s) into {root / 'lessons'}")
    for path in derived.write(root):
        print(f"wrote {path}")
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    import time

    from rich.console import Console

    from autograder.authoring.audit import audit_lessons, lesson_names, print_audit
    from autograder.mutants import AuditError

    root = _project_root(args.root)
    try:
        names = lesson_names(root / "solutions", args.lessons)
    except ValueError as error:
        raise UsageError(str(error)) from error
    start = time.perf_counter()
    try:
        audits = audit_lessons(root / "solutions", names)
    except AuditError as error:
        raise CommandError(str(error)) from error
    problems = print_audit(audits, Console(width=max(Console().width, 100)))
    exercises = sum(len(audit.exercises) for audit in audits)
    print(f"{exercises} exercise(s) of {len(names)} lesson(s) audited in {time.perf_counter() - start:.1f} s; "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


def _cmd_translations(args: argparse.Namespace) -> int:
    from autograder.authoring import catalog, translations
    from autograder.authoring.build import assignment_names
    from convlab import i18n

    root = _project_root(args.root)
    failed = False
    try:
        translations.check_language(args.lang)
        names = args.lessons or assignment_names(root / "solutions")
        unknown = [n for n in names if not (root / "solutions" / n).is_dir()]
        if unknown:
            raise UsageError(f"LESSON: no such lesson in solutions/: {unknown[0]!r}")
        for name in names:
            for notebook in sorted((root / "solutions" / name).glob("*.ipynb")):
                where = translations.translation_path(notebook, args.lang).relative_to(root)
                if args.check:
                    found = translations.problems(notebook, args.lang)
                    print("\n".join(found) if found else f"{where}: complete")
                    failed = failed or bool(found)
                else:
                    print(f"{where}: {translations.skeleton(notebook, args.lang)} cell(s) to translate")
        if not args.lessons:  # the feedback's messages too
            where = i18n.catalog_path(args.lang).relative_to(root)
            if args.check:
                found = catalog.problems(args.lang)
                print("\n".join(found) if found else f"{where}: complete")
                failed = failed or bool(found)
            else:
                print(f"{where}: {catalog.update(args.lang)} message(s) to translate")
    except translations.TranslationError as error:
        raise UsageError(str(error)) from error
    return 1 if failed else 0


def _cmd_check(args: argparse.Namespace) -> int:
    from autograder.grading.check import NotebookUnreadable, check_notebook

    path = Path(args.notebook)
    if not path.is_file():
        raise UsageError(f"NOTEBOOK: no such file: {str(path)!r}")
    try:
        check_notebook(path, timeout=args.timeout)
    except NotebookUnreadable as error:
        raise UsageError(f"NOTEBOOK: {error}") from error
    return 0


def _cmd_lessons(args: argparse.Namespace) -> int:
    from autograder.authoring.workspace import WorkspaceError, copy_lessons

    dest = Path(args.dir)
    try:
        copied = copy_lessons(dest, args.lang)
    except WorkspaceError as error:
        raise UsageError(str(error)) from error
    kept = f"; {len(copied.kept)} already there, kept as they are" if copied.kept else ""
    print(f"{dest}: {len(copied.added)} file(s) added{kept}")
    for name in copied.added:
        print(f"  + {name}")
    return 0


def _cmd_progress(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from autograder.authoring.progress import workspace_progress
    from convlab import i18n
    from convlab.i18n import _

    root = Path(args.dir) if args.dir else (Path("workspace") if Path("workspace").is_dir() else Path("."))
    if not root.is_dir():
        raise UsageError(f"DIR: no such directory: {str(root)!r}")
    found = {i18n.language_of(path) for path in root.rglob("*.ipynb")}
    lang = args.lang or (found.pop() if len(found) == 1 else None)  # a one-edition workspace speaks its language
    with i18n.speaking(lang) if lang else contextlib.nullcontext():
        lessons = workspace_progress(root)
        if not lessons:
            raise UsageError(f"DIR: no lesson notebooks in {str(root)!r} (convlab lessons DIR copies them there)")
        table = Table(title=str(root), show_footer=True)
        table.add_column(_("lesson"), footer=_("total"))
        table.add_column(_("points"), justify="right",
                         footer=f"{sum(p.earned for p in lessons):g}/{sum(p.possible for p in lessons):g}")
        table.add_column(_("next"))
        for lesson in lessons:
            table.add_row(Text(lesson.path), f"{lesson.earned:g}/{lesson.possible:g}", Text(lesson.next))
        Console(width=max(Console().width, 100)).print(table)
    return 0


def _cmd_new_course(args: argparse.Namespace) -> int:
    from autograder.authoring.build import BuildError
    from autograder.authoring.course import CourseError, new_course
    from autograder.authoring.translations import TranslationError

    solutions = Path(args.solutions) if args.solutions else _default_solutions()
    try:
        course = new_course(Path(args.dir), solutions, lang=args.lang, group=args.group)
    except (CourseError, TranslationError) as error:
        raise UsageError(str(error)) from error
    except BuildError as error:
        raise CommandError(str(error)) from error
    print(f"course ready in {course}" + (f" (readable by the group {args.group})" if args.group else
                                         " (readable by you only)"))
    return 0


def _default_solutions() -> Path:
    """The instructor notebooks `new-course` uses without --solutions: solutions/ of the project
    checkout (the current directory, or the checkout this package runs from), else the copy
    installed with the package (autograder/_solutions/ in a wheel)."""
    from autograder.authoring.course import BUNDLED_SOLUTIONS

    candidates = [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if (candidate / "solutions").is_dir():
            return (candidate / "solutions").resolve()
    if BUNDLED_SOLUTIONS.is_dir():
        return BUNDLED_SOLUTIONS
    raise UsageError(
        f"no solutions/ folder in {', '.join(repr(str(c)) for c in candidates)}, and none installed with "
        "the package; run from the project checkout or pass --solutions PATH"
    )


def _cmd_grade(args: argparse.Namespace) -> int:
    course = Path(args.dir)
    if not course.is_dir():
        raise UsageError(f"DIR: no such directory: {str(course)!r}")
    try:
        from autograder.grading.grade import grade
    except ModuleNotFoundError as error:
        if error.name != "autograder.grading.grade":
            raise
        raise CommandError("the grading pipeline (autograder.grading.grade) is not installed") from error
    # Options left out keep grade()'s own defaults.
    given = {
        "workers": args.workers, "scheduler": args.scheduler,
        "timeout": args.timeout, "memory_mb": args.memory_mb,
    }
    options = {name: value for name, value in given.items() if value is not None}
    if args.no_sandbox and args.sandbox not in (None, "none"):
        raise UsageError(f"--no-sandbox is --sandbox none: it cannot go with --sandbox {args.sandbox}")
    if args.no_sandbox or args.sandbox:
        options["sandbox"] = "none" if args.no_sandbox else args.sandbox
    from autograder.coursedir import CourseDir
    from autograder.sandbox import gpus

    for name in args.assignment or ():
        if not CourseDir(course).source(name).is_dir():
            raise UsageError(f"--assignment: no source/{name}/ in {str(course)!r}, got --assignment {name!r}")
    if args.assignment:
        options["assignments"] = tuple(args.assignment)
    if args.gpus:
        try:
            options["gpus"] = gpus.parse(args.gpus)
        except ValueError as error:
            raise UsageError(f"--gpus: {error}") from None
    return grade(course, force=args.force, **options)


def _cmd_export(args: argparse.Namespace) -> int:
    from autograder.coursedir import CourseDir
    from autograder.grading import lms, store

    if not Path(args.dir).is_dir():
        raise UsageError(f"DIR: no such directory: {args.dir!r}")
    if args.roster and not Path(args.roster).is_file():
        raise UsageError(f"--roster: no such file: {args.roster!r}")
    gb = store.open_gradebook(CourseDir.existing(args.dir))
    try:
        text = lms.export(gb, args.format, Path(args.roster) if args.roster else None)
    except lms.ExportError as error:
        raise UsageError(str(error)) from error
    finally:
        gb.close()
    target = Path(args.output or Path(args.dir) / f"grades-{args.format}.csv")
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({text.count(chr(10))} lines)")
    return 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    from autograder.sandbox.doctor import doctor

    if args.dir is not None and not Path(args.dir).is_dir():
        raise UsageError(f"DIR: no such directory: {args.dir!r}")
    return doctor(course=Path(args.dir) if args.dir is not None else None)


def _project_root(root: str | None) -> Path:
    """The project checkout: `--root`, else the current directory, else the package's checkout."""
    candidates = [Path(root)] if root else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for candidate in candidates:
        if (candidate / "solutions").is_dir():
            return candidate.resolve()
    raise UsageError(
        f"--root: no solutions/ folder in {', '.join(repr(str(c)) for c in candidates)}; "
        "run from the project checkout or pass --root"
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="convlab", description="Build the convlab course, study it, check a lesson, grade a class."
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _authoring_commands(sub)
    _learner_commands(sub)
    _grading_commands(sub)
    from autograder.authoring import hub

    hub.add_parser(sub)
    return top


def _authoring_commands(sub) -> None:
    """What makes a course: the lessons from the solutions, their translations, a course directory."""
    build = sub.add_parser(
        "build", help="regenerate lessons/ from solutions/ with nbgrader",
        description="Regenerate lessons/ (student notebooks) from solutions/ with nbgrader's "
        "generate_assignment. Same input, byte-identical output.",
    )
    build.add_argument("--check", action="store_true",
                       help="change nothing; exit 1 and list the differences when lessons/ is stale")
    build.add_argument("--root", help="project checkout holding solutions/ and lessons/ "
                       "(default: the current directory)")
    build.set_defaults(run=_cmd_build)

    audit = sub.add_parser(
        "audit", help="which wrong answers each test cell catches, visible and hidden",
        description="Run every test cell's check calls of each LESSON (default: all), visible and hidden, with their "
        "seeds and case counts as written, against mutants of each exercise's answer: its named mistakes, and the "
        "right answer with its last row dropped, its last two axes swapped, zeros, + 1e-2, or ints off by one. "
        "Prints per lesson which mutants each test cell catches (✓) and lets slip (✗). Exits 1 when an exercise's "
        "hidden tests catch fewer mutants than its visible ones, or a check fails the right answer.",
    )
    audit.add_argument("lessons", nargs="*", metavar="LESSON",
                       help="lesson folder names or numbers, e.g. 01_single_channel or 01")
    audit.add_argument("--root", help="project checkout holding solutions/ (default: the current directory)")
    audit.set_defaults(run=_cmd_audit)

    translate = sub.add_parser(
        "translations", help="add the cells a lesson's translation lacks or has stale, for translating",
        description="For each LESSON (default: all), add to solutions/NN_topic/NN_topic.LANG.yml an entry "
        "for every cell whose translation is missing or stale: the English fingerprint and, as text to "
        "replace, the English itself (a stale entry keeps its old translation as `was`). Without LESSON, "
        "also merge the feedback's messages into convlab/locale/LANG/LC_MESSAGES/convlab.po (Babel).",
    )
    translate.add_argument("lessons", nargs="*", metavar="LESSON", help="lesson folder names, e.g. 01_single_channel")
    translate.add_argument("--lang", required=True, help="the edition's language, e.g. zh")
    translate.add_argument("--check", action="store_true",
                           help="change nothing; list each cell whose translation is missing, stale or changes code")
    translate.add_argument("--root", help="project checkout holding solutions/ (default: the current directory)")
    translate.set_defaults(run=_cmd_translations)

    new_course = sub.add_parser(
        "new-course", help="create an nbgrader course directory holding every lesson",
        description="Create an nbgrader course in DIR: nbgrader_config.py, source/ (from "
        "solutions/), release/ and a gradebook with every assignment. Plain `nbgrader "
        "autograde` then grades in it. The course holds the answers: only you can read it "
        "(folders 0700, files 0600) unless --group names a group that may read it too.",
    )
    new_course.add_argument("dir", metavar="DIR", help="new (or empty) course directory")
    new_course.add_argument("--solutions", metavar="PATH",
                            help="folder of assignment folders (default: the project's solutions/, or the "
                            "copy installed with the package)")
    new_course.add_argument("--group", metavar="NAME",
                            help="give the course to this group, which may read it but not change it "
                            "(folders 0750, files 0640), e.g. for a teaching assistant")
    new_course.add_argument("--lang", default="en",
                            help="the edition: en (default) or zh (简体中文, from the lessons' translations)")
    new_course.set_defaults(run=_cmd_new_course)


def _learner_commands(sub) -> None:
    """What a learner runs: a lesson checked as the grader would, their workspace, their progress."""
    check = sub.add_parser(
        "check", help="run a notebook as the grader would and print the points per exercise",
        description="Run NOTEBOOK in a fresh kernel without hidden tests and print, per exercise, "
        "the points earned and the feedback. Exits 0 whatever the score.",
    )
    check.add_argument("notebook", metavar="NOTEBOOK", help="a lesson (or solution) notebook")
    check.add_argument("--timeout", type=_positive_float, default=defaults.TIMEOUT_SECONDS, metavar="SECONDS",
                       help=f"seconds the notebook may run, as under convlab grade (default: {defaults.TIMEOUT_SECONDS:g})")
    check.set_defaults(run=_cmd_check)

    lessons = sub.add_parser(
        "lessons", help="copy the lessons into a folder of your own, where your work is kept",
        description="Copy the learner notebooks (both editions and the page linking them, or one edition) "
        "into DIR. Only what DIR lacks is added: a notebook you have worked on is never overwritten, so "
        "running it again after an update adds the new lessons only.",
    )
    lessons.add_argument("dir", metavar="DIR", help="your workspace (made if missing)")
    lessons.add_argument("--lang", metavar="LANG", help="one edition only: en or zh (简体中文)")
    lessons.set_defaults(run=_cmd_lessons)

    progress = sub.add_parser(
        "progress", help="where you stand in each lesson of your workspace",
        description="Per lesson notebook in DIR (default: workspace/ if there is one, else here): the points of "
        "the visible tests you have passed, of those there are, and the exercise to work on next. Read from the "
        "saved notebooks: nothing runs (convlab check runs a lesson as the grader would).",
    )
    progress.add_argument("dir", metavar="DIR", nargs="?", help="your workspace (convlab lessons DIR)")
    progress.add_argument("--lang", metavar="LANG", help="the language to answer in: en or zh")
    progress.set_defaults(run=_cmd_progress)


def _grading_commands(sub) -> None:
    """What an instructor runs to grade, and to see what grading gets on this host."""
    grade = sub.add_parser(
        "grade", help="autograde every submission in a course directory, sandboxed and in parallel",
        description="Autograde DIR/submitted/<student>/<assignment>/*.ipynb; write autograded/, "
        "feedback/, the gradebook and grades.csv. Exits 0 when the run completed, 2 (storing nothing) "
        "when the sandbox cannot run here and --no-sandbox was not given.",
    )
    grade.add_argument("dir", metavar="DIR", help="course directory made by `convlab new-course`")
    grade.add_argument("--workers", type=_positive_int, metavar="N",
                       help=f"local worker processes (default: one more than the CPU cores, {defaults.workers()} here)")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster at ADDRESS instead of local processes "
                       "(needs the grading extra: pip install 'convlab[grading]')")
    grade.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                       help=f"wall-clock seconds one notebook may run (default: {defaults.TIMEOUT_SECONDS:g})")
    grade.add_argument("--memory-mb", type=_positive_int, metavar="MB",
                       help=f"memory limit of each process of a notebook's run, in MB (default: {defaults.MEMORY_MB})")
    grade.add_argument("--force", action="store_true", help="regrade what is already graded")
    grade.add_argument("--assignment", action="append", metavar="NAME",
                       help="grade only this assignment's submissions (repeatable; default: every assignment); "
                       "runs on different assignments may go on at once")
    grade.add_argument("--gpus", metavar="LIST",
                       help="GPUs notebook runs are given, one each: ids as CUDA numbers them (0,1), all "
                       "(default) or none; with fewer GPUs than workers, runs share them evenly")
    grade.add_argument("--sandbox", choices=list(BACKENDS), metavar="NAME",
                       help=f"how student code runs: {', '.join(BACKENDS)} (default: the safest that runs "
                       "here; `convlab doctor` says which)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="--sandbox none: grade where no sandbox can run, as plain nbgrader does: student code "
                       "runs with your rights, files and network (the report says so)")
    grade.set_defaults(run=_cmd_grade)

    export = sub.add_parser(
        "export", help="the gradebook's grades in a format an LMS imports (Canvas, Moodle, Brightspace)",
        description="Write the grades of DIR's gradebook as an LMS imports them: canvas, moodle, brightspace, "
        "or csv (nbgrader's export columns). --roster maps the hub's user names to the LMS's ids.",
    )
    export.add_argument("dir", metavar="DIR", help="the course directory")
    export.add_argument("--format", required=True, choices=["canvas", "moodle", "brightspace", "csv"])
    export.add_argument("--roster", metavar="FILE", help="CSV: username and the LMS's id columns (see docs)")
    export.add_argument("--output", metavar="FILE", help="default: DIR/grades-FORMAT.csv")
    export.set_defaults(run=_cmd_export)

    doctor = sub.add_parser(
        "doctor", help="probe what `convlab grade` gets on this host",
        description="Probe for real what grading gets here: the sandbox (or why not), uid drop, network "
        "isolation, user namespaces, memory/pids limits, disk limit, the GPU inside the sandbox and "
        "versions. Exits 1 where `convlab grade` would refuse. Given a course directory, also warns "
        "(without changing the exit status) where others can read or change the course, its sources, "
        "gradebook or configuration.",
    )
    doctor.add_argument("dir", metavar="DIR", nargs="?", help="a course directory to check for privacy")
    doctor.set_defaults(run=_cmd_doctor)


def main(argv: list[str] | None = None) -> int:
    from autograder.interpreter import put_environment_on_path, spare_slow_imports

    put_environment_on_path()  # alembic and kernels beside this interpreter, activated or not
    spare_slow_imports()
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as error:
        print(f"convlab {args.command}: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"convlab {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"convlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

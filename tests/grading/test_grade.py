"""`convlab grade` on a class of submissions: right, blank, wrong, hostile and broken ones.

One course is graded once (module fixture); each test then asserts one property of the result:
exact points per student and test cell, the reasons recorded, isolation, feedback without hidden
test source, grades.csv and the instructor report.
"""
import csv
import json
import re
import socket
import sqlite3

import coursekit as ck
import nbformat
import pytest

from autograder import cell_meta
from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

TIMEOUT = 45.0
MEMORY_MB = 1536
HIDDEN_SOURCE = ("seed=831", "BEGIN HIDDEN", "torch.zeros(1, 1, 5, 5)")
FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
ONLY_SHAPE = {"corr2d_visible": 0.0, "corr2d_hidden": 0.0, "output_shape_test": 1.0}
ERRS_IN_VISIBLE = {"corr2d_visible": 0.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
NO_SHAPE = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 0.0}
NOTHING = {"corr2d_visible": 0.0, "corr2d_hidden": 0.0, "output_shape_test": 0.0}

PATCHES = """
import numpy, torch
torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
numpy.allclose = lambda *args, **kwargs: True
import convlab.checks, convlab.checks.lesson01 as lesson01
lesson01.corr2d = lambda fn, **kwargs: None
convlab.checks.answer = lambda *args, **kwargs: None
"""

SILENCED = """
ip = get_ipython()
ip.showtraceback = lambda *args, **kwargs: None
ip._showtraceback = lambda *args, **kwargs: None
"""

SEED_DROPPED = """
import convlab.checks.lesson01 as lesson01
_real = lesson01.corr2d
lesson01.corr2d = lambda fn, seed=0, cases=None: _real(fn)
"""

FAKE_EQ = '''
class Anything:
    """Equal to everything, close to everything."""
    def __eq__(self, other): return True
    def __sub__(self, other): return 0
    def __abs__(self): return 0
    shape = property(lambda self: (3, 3))

def corr2d(X, K):
    return Anything()
'''

STDERR_SPAM = """
import sys, warnings
def corr2d(X, K):
    print("debug: corr2d called", file=sys.stderr)
    warnings.warn("a torch-like warning on stderr")
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)  # (H - kh + 1, W - kw + 1, kh, kw)
    return (windows * K).sum(dim=(-2, -1))
"""


# A blank answer plus a cell that replaces the check engine by one that answers with the course's
# own kernel: what the notebook run records is never read, and the grader's run bans the kernel.
FORGED_ENGINE = """
import convlab.functional as cf
from convlab.checks import core
def forged(self, fn, case, index, device):
    return core.Run(index, device, output=cf.corr2d(*[a.to(device) for a in case.args]))
core.Exercise.call = forged
core.Exercise.__call__ = lambda self, fn, **kwargs: None
"""
REFERENCE = "import convlab.functional as cf\n\ndef corr2d(X, K):\n    return cf.corr2d(X, K)\n"
HELPER_IMPORT = "from helper import corr2d\n"


# Right answers that, inside the notebook's kernel, print and raise what they can read of the
# hidden tests (the running cell's own source), or forge the runner's status and kill it.
EXFILTRATE = """
class Leak(BaseException):
    pass

def corr2d(X, K):
    history = globals().get("In")
    if history:  # the notebook's kernel, not the grader's run
        source = history[-1]
        print(source)
        raise (Leak if "{kind}" == "base" else ValueError)(source + " <script>alert(1)</script> [bold red]x[/]")
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)
    return (windows * K).sum(dim=(-2, -1))
"""
# Hunts the notebook run for hidden test text (the kernel's history, the files beside it) and
# raises it encoded, past any redaction; finding none, it is simply right.
HUNT = """
import base64, os

def corr2d(X, K):
    needle = "seed=" + str(800 + 31)  # not in this cell's own source, which `In` holds too
    found = [text for text in globals().get("In", [])[:] if needle in text]
    for name in os.listdir("."):
        try:
            found += [line for line in open(name, errors="ignore") if needle in line]
        except OSError:
            pass
    if found:
        raise RuntimeError("FOUND:" + base64.b64encode(found[0].encode()).decode()[:150])
    kh, kw = K.shape
    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))
"""
# Red-team routes around the bans: another namespace's convolution kernel, the reference with the
# watch's depth raised, torch's kernels brought back, the reference's untrapped twin.
MKLDNN = """
import torch

def corr2d(X, K):
    op = [torch][0].ops.mkldnn._convolution_pointwise
    x, k = X.float()[None, None], K.float()[None, None]
    return op(x, k, None, [0, 0], [1, 1], [1, 1], 1, "none", [], None)[0, 0].to(X.dtype)
"""
RAISED_DEPTH = """
import torch, convlab.naive

def corr2d(X, K):
    R = [torch][0].sys.modules["convlab.checks.references"]
    R._depth.value += 1
    try:
        return convlab.naive.corr2d(X, K)
    finally:
        R._depth.value -= 1
"""
KERNELS_BACK = """
import gc, torch
import torch.nn.functional as F

def corr2d(X, K):
    for found in gc.get_objects():  # the registrations that disable torch's kernels, wherever held
        for undo in ("_destroy", "reset"):
            if type(found).__name__ in ("Library", "_DispatchModule") and hasattr(found, undo):
                getattr(found, undo)()
    gc.collect()
    with torch._C.DisableTorchFunction():
        from torch.utils._python_dispatch import _disable_current_modes
        with _disable_current_modes():
            return F.conv2d(X[None, None], K[None, None])[0, 0]
"""
TWIN = """
import torch, convlab.naive

def corr2d(X, K):
    R = [torch][0].sys.modules["convlab.checks.references"]
    R.install()
    return R._originals["convlab.naive:corr2d"](X, K)
"""
FORGED_STATUS = """
import json, os
json.dump({"status": "error", "message": "| **forged** | <img src=x onerror=alert(1)> [red]x[/] " + "A" * 200000,
           "executed": list(range(40)), "errored": []}, open("status.json", "w"))
os.kill(os.getppid(), 9)
"""


def spy(course):
    """An answer that sets the right shape only when none of the course's files can be read."""
    targets = [course / "gradebook.db", course / "submitted" / "s01_correct" / "ps1" / "ps1.ipynb",
               course / "source" / "ps1" / "ps1.ipynb", course / "submitted"]
    return f"""
import os
leaked = []
for path in {[str(t) for t in targets]!r}:
    try:
        os.listdir(path) if os.path.isdir(path) else open(path, "rb").read(10)
        leaked.append(path)
    except OSError:
        pass
print("leaked:", leaked)
output_shape = (3, 3) if not leaked else (0, 0)
"""


def network(port):
    return f"""
import socket
connected = []
for host in ("127.0.0.1", "10.0.0.1", "1.1.1.1"):
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect((host, {port})); connected.append(host)
    except OSError:
        pass
print("connected:", connected)
output_shape = (3, 3) if not connected else (0, 0)
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = ck.make_course(tmp_path_factory.mktemp("class"))
    ans = ck.solution_answers(course)
    right, shape = ans["corr2d"], ans["output_shape"]
    flipped = right.replace("windows * K", "windows * K.flip(0, 1)")
    assert flipped != right
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]

    students = {
        "s01_correct": ({"corr2d": right, "output_shape": shape}, FULL),
        "s02_blank": ({}, NOTHING),
        "s03_flipped": ({"corr2d": flipped, "output_shape": shape}, ONLY_SHAPE),
        "s04_loop": ({"corr2d": right, "output_shape": "while True:\n    pass"}, NO_SHAPE),
        "s05_memory": ({"corr2d": right, "output_shape": "import numpy\nhog = numpy.ones((1024, 1024, 1024))"
                        "\noutput_shape = (3, 3)"}, NO_SHAPE),
        "s06_exit": ({"corr2d": right, "output_shape": "import os\nos._exit(0)"}, NO_SHAPE),
        "s07_invalid_json": (None, NOTHING),
        "s08_deleted_tests": ({"corr2d": right, "output_shape": shape}, FULL),
        "s09_edited_tests": ({"corr2d": flipped, "output_shape": shape}, ONLY_SHAPE),
        # Patching the checks changes nothing: the grader calls the functions itself.
        "s10_patched": ({"corr2d": flipped + "\n" + PATCHES, "output_shape": shape}, ONLY_SHAPE),
        "s11_fake_eq": ({"corr2d": FAKE_EQ, "output_shape": shape}, ONLY_SHAPE),
        "s12_stderr": ({"corr2d": STDERR_SPAM, "output_shape": shape}, FULL),
        "s13_spy": ({"corr2d": right, "output_shape": spy(course)}, FULL),
        "s14_network": ({"corr2d": right, "output_shape": network(port)}, FULL),
        # Dropping the hidden seed gains nothing either: the grader draws its own.
        "s15_seed_dropped": ({"corr2d": right + "\n" + SEED_DROPPED, "output_shape": shape}, FULL),
        "s16_deleted_answer": ({"corr2d": right, "output_shape": shape}, ONLY_SHAPE),
        "s17_silenced": ({"corr2d": flipped + "\n" + SILENCED, "output_shape": shape}, ONLY_SHAPE),
        "s18_forged_engine": ({"corr2d": FORGED_ENGINE, "output_shape": shape}, ONLY_SHAPE),
        "s19_reference": ({"corr2d": REFERENCE, "output_shape": shape}, ONLY_SHAPE),
        "s20_helper_module": ({"corr2d": HELPER_IMPORT, "output_shape": shape}, FULL),
        # The grader's run passes; the notebook run's visible test raises what it read: no points for
        # the test that errors (the hidden one never ran there), and nothing hidden anywhere.
        "s21_exfiltrate": ({"corr2d": EXFILTRATE.format(kind="value"),
                            "output_shape": shape}, ERRS_IN_VISIBLE),
        "s22_exfiltrate_base": ({"corr2d": EXFILTRATE.format(kind="base"),
                                 "output_shape": shape}, ERRS_IN_VISIBLE),
        # Hidden tests never enter the notebook run: nothing to find there.
        "s24_hunt": ({"corr2d": HUNT, "output_shape": shape}, FULL),
        "s25_mkldnn": ({"corr2d": MKLDNN, "output_shape": shape}, ONLY_SHAPE),
        "s26_raised_depth": ({"corr2d": RAISED_DEPTH, "output_shape": shape}, ONLY_SHAPE),
        "s27_kernels_back": ({"corr2d": KERNELS_BACK, "output_shape": shape}, ONLY_SHAPE),
        # Not stopped at run time (Python has no isolation inside a process): flagged for review.
        "s28_twin": ({"corr2d": TWIN, "output_shape": shape}, FULL),
        "s23_forged_status": ({"corr2d": right, "output_shape": shape + "\n" + FORGED_STATUS},
                              {"corr2d_visible": 0.0, "corr2d_hidden": 0.0, "output_shape_test": 0.0}),
    }
    for student, (answers, _) in students.items():
        if answers is None:
            path = course / "submitted" / student / "ps1" / "ps1.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text('{"cells": [ this is not json')
            continue
        path = ck.write_submission(course, student, answers)
        nb = nbformat.read(str(path), as_version=4)
        if student == "s08_deleted_tests":
            nb.cells = [c for c in nb.cells if cell_meta.grade_id(c) not in ("corr2d_visible", "corr2d_hidden")]
        elif student == "s09_edited_tests":
            for c in nb.cells:
                if cell_meta.grade_id(c) in ("corr2d_visible", "corr2d_hidden"):
                    c.source = "print('all tests passed')"
        elif student == "s16_deleted_answer":
            nb.cells = [c for c in nb.cells if cell_meta.grade_id(c) != "corr2d"]
        nbformat.write(nb, str(path))
    (course / "submitted" / "s20_helper_module" / "ps1" / "helper.py").write_text(
        "import torch\n\n\ndef corr2d(X, K):\n" + "".join(f"    {line}\n" for line in right.splitlines()[1:]))
    (course / "submitted" / "s01_correct" / "ps1" / "timestamp.txt").write_text("2026-01-02 03:04:05.000000 UTC")
    (course / "submitted" / "s01_correct" / "ps1" / "submission_secret.txt").write_text("s01-secret")

    code = grade(course, workers=2, timeout=TIMEOUT, memory_mb=MEMORY_MB)
    try:
        accepted = listener.accept()
    except BlockingIOError:
        accepted = None
    listener.close()
    return {"course": course, "code": code, "expected": {s: e for s, (_, e) in students.items()},
            "accepted": accepted}


def details(course):
    with sqlite3.connect(course / "gradebook.db") as db:
        rows = db.execute("SELECT student, details FROM convlab_graded").fetchall()
    return {student: json.loads(text) for student, text in rows}


def results_of(course, student):
    return {r["grade_id"]: r for r in details(course)[student]["notebooks"]["ps1"]["results"]}


def test_run_completes_with_exit_code_zero(graded):
    assert graded["code"] == 0


@pytest.mark.parametrize("student", [
    "s01_correct", "s02_blank", "s03_flipped", "s04_loop", "s05_memory", "s06_exit", "s07_invalid_json",
    "s08_deleted_tests", "s09_edited_tests", "s10_patched", "s11_fake_eq", "s12_stderr", "s13_spy",
    "s14_network", "s15_seed_dropped", "s16_deleted_answer", "s17_silenced", "s21_exfiltrate",
    "s22_exfiltrate_base", "s23_forged_status", "s24_hunt", "s25_mkldnn", "s26_raised_depth",
    "s27_kernels_back", "s28_twin"])
def test_exact_points_in_the_gradebook(graded, student):
    assert ck.scores(graded["course"], student) == graded["expected"][student]


def test_autograded_holds_what_nbgraders_autograde_copies(graded):
    autograded = graded["course"] / "autograded"
    assert (autograded / "s01_correct" / "ps1" / "submission_secret.txt").read_text() == "s01-secret"
    assert (autograded / "s20_helper_module" / "ps1" / "helper.py").exists()  # submitted beside the notebook
    assert (autograded / "s02_blank" / "ps1" / "data.csv").exists()  # the instructor's file from source/
    # An unreadable notebook: the assignment as released stands in, to carry why and the verdicts.
    stand_in = (autograded / "s07_invalid_json" / "ps1" / "ps1.ipynb").read_text()
    assert "could not be graded" in stand_in and "BEGIN SOLUTION" not in stand_in
    # The feedback is nbgrader's own page, made from it, with nbgrader's files beside it.
    feedback = graded["course"] / "feedback" / "s01_correct" / "ps1"
    assert (feedback / "submission_secret.txt").exists() and (feedback / "timestamp.txt").exists()


def test_feedback_names_the_likely_mistake(graded):
    assert "flipped" in results_of(graded["course"], "s03_flipped")["corr2d_visible"]["message"]
    page = (graded["course"] / "feedback" / "s03_flipped" / "ps1" / "ps1.html").read_text()
    assert "flipped" in page and "0 / 2" in page


@pytest.mark.parametrize("student, cell, reason", [
    ("s04_loop", "output_shape_test", "timeout"),
    ("s06_exit", "output_shape_test", "kernel_died"),
    ("s07_invalid_json", "corr2d_visible", "invalid_notebook"),
    ("s10_patched", "corr2d_visible", "failed"),
    ("s11_fake_eq", "corr2d_visible", "failed"),
    ("s17_silenced", "corr2d_visible", "failed"),
])
def test_reasons_for_failures_are_recorded(graded, student, cell, reason):
    assert results_of(graded["course"], student)[cell]["reason"] == reason


@pytest.mark.parametrize("student, flagged", [
    ("s01_correct", False), ("s03_flipped", False),
    ("s12_stderr", True),  # `import sys` to print on stderr: a person looks, the points stay
    ("s10_patched", True), ("s15_seed_dropped", True), ("s17_silenced", True), ("s13_spy", True),
    ("s18_forged_engine", True), ("s19_reference", False), ("s20_helper_module", False),
    ("s25_mkldnn", True), ("s26_raised_depth", True), ("s27_kernels_back", True), ("s28_twin", True),
])
def test_code_no_honest_answer_needs_goes_to_manual_grading(graded, student, flagged):
    from nbgrader.api import Gradebook

    results = results_of(graded["course"], student)
    assert any(r["review"] for r in results.values()) == flagged
    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("ps1", "ps1", student)
        assert any(g.needs_manual_grade for g in nb.grades) == flagged
        # The flag marks the test for review; its autograde score stays as the grader computed it.
        assert {g.name: g.auto_score for g in nb.grades if g.name in results} == \
            {name: r["points"] for name, r in results.items()}


def test_the_courses_reference_earns_nothing_and_says_so(graded):
    message = results_of(graded["course"], "s19_reference")["corr2d_visible"]["message"]
    assert "uses the course's reference convlab.functional.corr2d" in message


def test_submission_wide_failures_reach_the_gradebook_comments(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        comments = {c.name: c.auto_comment for c in gb.find_submission_notebook("ps1", "ps1", "s04_loop").comments}
        assert "timeout" in comments["corr2d"]
        restored = {c.name: c.auto_comment for c in
                    gb.find_submission_notebook("ps1", "ps1", "s08_deleted_tests").comments}
        assert "corr2d_visible" in restored["corr2d"]


def test_isolation_held(graded):
    assert graded["accepted"] is None, "a submission reached a port on the grading host"
    spy_nb = nbformat.read(str(graded["course"] / "autograded" / "s13_spy" / "ps1" / "ps1.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in spy_nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "leaked: []" in printed


def test_no_hidden_test_source_in_feedback_or_autograded_outputs(graded):
    course = graded["course"]
    pages = list((course / "feedback").rglob("*.html"))
    assert len(pages) == len(graded["expected"])
    for page in pages:
        text = page.read_text()
        assert not any(secret in text for secret in HIDDEN_SOURCE), page
    for path in (course / "autograded").rglob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert not any(secret in outputs for secret in HIDDEN_SOURCE), path


def test_autograded_notebooks_run_the_instructors_tests(graded):
    nb = nbformat.read(str(graded["course"] / "autograded" / "s09_edited_tests" / "ps1" / "ps1.ipynb"), as_version=4)
    hidden = next(c for c in nb.cells if cell_meta.grade_id(c) == "corr2d_hidden")
    visible = next(c for c in nb.cells if cell_meta.grade_id(c) == "corr2d_visible")
    # The instructor's cells are back; the visible test ran in the notebook (and failed: kernel
    # flipped); the hidden one is the grader's own call, so its cell ran without its hidden part.
    assert "seed=831" in hidden.source and ["convlab-verdict" in json.dumps(o) for o in hidden.outputs] == [True]
    assert any(o.get("output_type") == "error" for o in visible.outputs)
    assert (graded["course"] / "autograded" / "s01_correct" / "ps1" / "timestamp.txt").exists()


def test_grades_csv_has_nbgraders_export_columns(graded):
    with open(graded["course"] / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                             "email", "raw_score", "late_submission_penalty", "score", "max_score"]
    by_student = {r["student_id"]: r for r in rows}
    for student, expected in graded["expected"].items():
        assert float(by_student[student]["score"]) == sum(expected.values())
        assert float(by_student[student]["max_score"]) == 4.0
    assert by_student["s01_correct"]["timestamp"].startswith("2026-01-02 03:04:05")


def test_instructor_report(graded):
    course = graded["course"]
    text = (course / "grading-report.md").read_text()
    total = len(graded["expected"])
    passed_visible = sum(e["corr2d_visible"] > 0 for e in graded["expected"].values())
    assert f"| ps1 | corr2d_visible | {passed_visible}/{total} |" in text
    passed_corr2d = sum(e["corr2d_visible"] > 0 and e["corr2d_hidden"] > 0 for e in graded["expected"].values())
    assert f"| ps1 | corr2d | {passed_corr2d}/{total} |" in text  # the exercise: all its tests
    assert "s05_memory / ps1 / ps1: memory: the 1536 MB limit was reached" in text
    for reason in ("timeout", "kernel_died", "invalid_notebook", "failed"):
        assert f"| {reason} |" in text
    assert (course / "grading-scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # What the class got wrong, from the grader's own verdicts: three students flipped the kernel
    # (s03, s09, s10), each failing corr2d's visible and hidden test.
    row = re.search(r"^\| ps1 \| corr2d \| (\d+) \| (.*) \|$", text.split("## What the class got wrong")[1], re.M)
    flipped = re.search(r"(\d+) kernel flipped", row.group(2))
    assert flipped and int(flipped.group(1)) >= 6, row.group(0)
    assert "Likely mistake: kernel flipped" in text  # the failure table carries the whole diagnosis


def test_nbgraders_own_export_sees_the_same_grades(graded):
    course = graded["course"]
    result = ck.nbgrader(course, "export", "--to", str(course / "nbgrader-export.csv"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (course / "nbgrader-export.csv").read_text() == (course / "grades.csv").read_text()


EXFILTRATORS = ("s21_exfiltrate", "s22_exfiltrate_base", "s23_forged_status", "s24_hunt")


def _everything_read(course, student):
    """Every text a student or the instructor reads about `student`'s submission."""
    from nbgrader.api import Gradebook

    texts = [(course / "feedback" / student / "ps1" / "ps1.html").read_text(),
             (course / "grading-report.md").read_text(), json.dumps(results_of(course, student))]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook("ps1", "ps1", student)
        texts += [c.auto_comment or "" for c in nb.comments]
    graded_nb = nbformat.read(str(course / "autograded" / student / "ps1" / "ps1.ipynb"), as_version=4)
    texts += [json.dumps(cell.get("outputs", [])) for cell in graded_nb.cells]
    return texts


@pytest.mark.parametrize("student", EXFILTRATORS)
def test_nothing_hidden_and_no_raw_markup_reaches_what_anyone_reads(graded, student):
    from autograder.grading import learner_text

    source = nbformat.read(str(graded["course"] / "source" / "ps1" / "ps1.ipynb"), as_version=4)
    hidden = [part for part in learner_text.hidden_parts(source) if len(part) >= 8] + ["seed=831"]
    texts = _everything_read(graded["course"], student)
    for text in texts:
        for part in hidden:
            assert part not in text, f"{part!r} reached {text[:200]!r}"
    feedback, report = texts[0], texts[1]
    for markup in ("<script>alert", "<img src=x"):
        assert markup not in feedback and markup not in report
    assert "A" * 1000 not in report and "**forged**" not in report


def test_what_a_learner_raises_in_the_notebook_run_holds_no_hidden_test(graded):
    results = results_of(graded["course"], "s21_exfiltrate")
    # The notebook run never had the hidden tests, so what it raised quotes only visible code.
    assert results["corr2d_visible"]["reason"] == "error" and "seed=831" not in json.dumps(results)
    assert results["corr2d_hidden"]["reason"] == "passed"
    assert not any("hidden test" in why for why in results["corr2d_visible"]["review"])
    assert "FOUND:" not in json.dumps(results_of(graded["course"], "s24_hunt"))


def test_tampering_with_the_safeguards_at_run_time_is_caught(graded):
    # The registrations that disable torch's kernels are out of Python's reach, and looking for them is refused.
    result = results_of(graded["course"], "s27_kernels_back")["corr2d_hidden"]
    assert result["points"] == 0
    assert any("refused: gc.get_objects" in reason for reason in result["review"]), result["review"]
    # A raised depth does not make the learner's call the course's own.
    assert "uses the course's reference convlab.naive.corr2d" in \
        results_of(graded["course"], "s26_raised_depth")["corr2d_hidden"]["message"]
    assert "mkldnn._convolution_pointwise" in results_of(graded["course"], "s25_mkldnn")["corr2d_hidden"]["message"]

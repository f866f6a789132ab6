"""A student who has read the grader's source: each route ends in 0 on the attacked test or a review
flag on it, and the honest student graded in the same run keeps every point.

Routes: nbgrader's hidden-test marker in an answer, records' names taken before the runner writes, an undecodable timestamp or a folder where the
instructor ships a file (each once stopped the whole class's grading), files beside the notebook
standing in for the grader's runners, the guard's state changed in place, names resolved from
strings, the course's unwatched originals, torch's Python decompositions, pickles, numpy's own
correlate, records rewritten after the grader's last call, and a non-daemon thread holding the
run open.
"""
import json

import coursekit as ck
import nbformat
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
MARKER = '''
# ### BEGIN HIDDEN TESTS
NOTE = """### BEGIN HIDDEN TESTS
### BEGIN HIDDEN TESTS"""
'''
# A runner of its own, beside a blank notebook: it would run the real one with torch's kernels left
# on and a corr2d of its own put in place of the learner's cells.
FORGED_RUNNER = '''
import os, sys
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
for name in [m for m in sys.modules if m.split(".")[0] == "autograder"]:
    del sys.modules[name]
import torch
import autograder.inside.verify_run as real
from convlab.checks import guard

def corr2d(X, K):
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]

guard.disable_builtin_kernels = lambda *a, **k: 0
real._run_cells = lambda cells, namespace, seconds: (namespace.update(corr2d=corr2d), [])[1]
sys.exit(real.main())
'''
SHADOWS = {"autograder/__init__.py": "", "autograder/inside/verify_run.py": FORGED_RUNNER,
           "autograder/inside/execute.py": FORGED_RUNNER, "json.py": "raise SystemExit(0)\n"}
# The watch list emptied while the reference runs and refilled before returning, reached through a
# string no attribute node names.
REFILLED_WATCH = '''
import string
import torch
import convlab.naive

modules = string.Formatter().get_field("0.sys.modules", (torch,), {})[0]

def corr2d(X, K):
    active = modules["convlab.checks.references"]._active
    saved = list(active)
    active.clear()
    try:
        return convlab.naive.corr2d(X, K)
    finally:
        active.extend(saved)
'''
# The watch list emptied and left so, reached through computed attribute names.
EMPTIED_WATCH = '''
import torch
import convlab.naive

def corr2d(X, K):
    modules = getattr(getattr(torch, "s" + "ys"), "mod" + "ules")
    modules["convlab.checks.references"]._active.clear()
    return convlab.naive.corr2d(X, K)
'''
# A wrong corr2d that keeps the inputs it was called with.
KEEPS_ITS_INPUTS = '''
import numpy as np
import torch
import convlab.naive

seen = []

def corr2d(X, K):
    if X.device.type == "cpu":
        seen.append((X.clone(), K.clone()))
    return torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1, dtype=X.dtype, device=X.device)
'''
# A wrong corr2d whose inputs are kept, and the right answers written over its records once the
# grader's calls are over: by a thread still running, and by an atexit handler.
REWRITER = KEEPS_ITS_INPUTS + '''
import atexit, glob, json, os, threading, time

def forge():
    answers = [convlab.naive.corr2d(x, k).numpy() for x, k in seen]
    for path in sorted(glob.glob(os.path.expanduser("~/records/*corr2d.json"))):
        try:
            document = json.load(open(path))
        except ValueError:
            continue
        arrays = {}
        for run in document["runs"]:
            tensor = (run.get("output") or {}).get("tensor") or {}
            if tensor.get("array") is not None and answers:
                arrays[tensor["array"]] = answers.pop(0)
        with open(path[:-5] + ".npz", "wb") as f:
            np.savez(f, **arrays)
        with open(path, "w") as f:
            json.dump(document, f)

def keep_forging():
    for _ in range(2000):
        time.sleep(0.005)
        if len(seen) >= 20:
            try:
                forge()
            except Exception:
                pass

threading.Thread(target=keep_forging).start()
atexit.register(forge)
'''
# A wrong corr2d whose inputs are kept, and numpy's savez (which writes a record's arrays) swapped
# for one that writes the course's answers for them instead.
SAVEZ = KEEPS_ITS_INPUTS + '''
real = np.savez

def forged(file, **arrays):
    answers = [convlab.naive.corr2d(x, k).numpy() for x, k in seen[-len(arrays):]]
    return real(file, **dict(zip(sorted(arrays, key=lambda key: int(key[1:])), answers)))

setattr(np, "sav" + "ez", forged)
'''
# The course's unwatched original of its reference, asked for by name through a container.
ORIGINAL = '''
import convlab

def corr2d(X, K):
    m = [convlab][0]
    return m.checks.references.original(m.naive.corr2d)(X, K)
'''
# torch's Python im2col, handed out by a public decomposition table.
EXPORTED_IM2COL = '''
import torch

def corr2d(X, K):
    table = torch.export.default_decompositions()
    im2col = [f for op, f in table.items() if str(op) == "aten.im2col.default"][0]
    kh, kw = K.shape
    cols = im2col(X[None, None], [kh, kw], [1, 1], [0, 0], [1, 1])[0]
    return (K.reshape(1, -1) @ cols).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)
'''
# A pickle beside the notebook that names the course's reference, loaded by numpy.
PICKLED_REFERENCE = b"cconvlab.checks.references\noriginal\n(cconvlab.naive\ncorr2d\ntR."
UNPICKLER = '''
import numpy as np

def corr2d(X, K):
    return np.load("weights.pkl", allow_pickle=True)(X, K)
'''
# The same, the pickle written at run time and naming torch's Python im2col.
RUNTIME_PICKLE = '''
import numpy as np

def corr2d(X, K):
    np.frombuffer(b"ctorch._decomp.decompositions\\nim2col\\n.", dtype=np.uint8).tofile("w.pkl")
    im2col = np.load("w.pkl", allow_pickle=True)
    kh, kw = K.shape
    cols = im2col(X[None, None], [kh, kw], [1, 1], [0, 0], [1, 1])[0]
    return (K.reshape(1, -1) @ cols).reshape(X.shape[0] - kh + 1, X.shape[1] - kw + 1)
'''
# numpy's own correlate, the module read back out of a list so that no name shows it.
HIDDEN_CORRELATE = '''
import numpy as np
import torch

def corr2d(X, K):
    n = [np][0]
    kh, kw = K.shape
    x, k = X.detach().cpu().double().numpy(), K.detach().cpu().double().numpy()
    rows = [sum(n.correlate(x[i + a], k[a], "valid") for a in range(kh)) for i in range(x.shape[0] - kh + 1)]
    return torch.tensor(n.array(rows), dtype=X.dtype, device=X.device)
'''
# The course's reference called by torch from inside an allowed one: autograd's vjp, and torch's
# no_grad wrapper run from a learner's object that an allowed reference iterates.
THROUGH_VJP = '''
import torch
from torch.autograd.functional import vjp
import convlab.naive as nv

def corr2d(X, K):
    v = torch.ones(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1, dtype=X.dtype, device=X.device)
    out, _ = vjp(nv.corr2d, (X, K), v)
    return out
'''
THROUGH_AN_ALLOWED_REFERENCE = '''
import torch
import convlab.naive as nv
from convlab.shapes import receptive_field

class Layers:
    def __init__(self, job):
        self.job = job

    def __iter__(self):
        self.job()
        return iter([1])

def corr2d(X, K):
    got = []
    run = torch.no_grad()(nv.corr2d)
    receptive_field(Layers(lambda: got.append(run(X, K))))
    return got[0]
'''
# The banned reference run by an allowed one, through C-level callables (no frame of the
# learner's between), its answer kept by itertools.tee.
THROUGH_TEE = '''
import itertools
import convlab.naive as nv
from convlab.shapes import receptive_field

def corr2d(X, K):
    a, b = itertools.tee(map(nv.corr2d, [X], [K]))
    try:
        receptive_field(a)
    except Exception:
        pass
    return next(b)
'''
# A signal handler's frame (no audit event), the watches' conditions emptied through match patterns.
# An exception carrying every source the process holds (the running cells' lines, the grader's
# own files), in the hope that feedback shows a hidden test: hidden tests never enter the sandbox.
EXCEPTION_SOURCE = '''
def corr2d(X, K):
    import linecache
    held = [" ".join(entry[2]) for entry in list(linecache.cache.values()) if len(entry) > 2 and entry[2]]
    raise RuntimeError(" ".join(held)[:20000])
'''


SIGNAL_FRAME = '''
import torch.utils.collect_env as ce
import convlab.naive as nv

def corr2d(X, K):
    sg = ce.subprocess.signal
    caught = []
    previous = sg.signal(sg.SIGUSR1, lambda num, frame: caught.append(frame))
    sg.raise_signal(sg.SIGUSR1)
    sg.signal(sg.SIGUSR1, previous)
    frame = caught[0]
    while frame is not None:
        match frame:
            case object(f_back=up, f_locals=names):
                pass
        match names.get("watch"):
            case object(conditions=conditions):
                conditions.clear()
        frame = up
    return nv.corr2d(X, K)
'''
# The records' names taken before the runner writes them, to be filled with the course's answers
# once the calls are over (from a tuple subclass's __iter__, which the runner's answers loop runs).
SLOT_TAKER = KEEPS_ITS_INPUTS + '''
import json
SLOTS = ["0001-lesson01.corr2d", "0002-lesson01.corr2d"]
for slot in SLOTS:
    for suffix in (".json", ".npz"):
        try:
            open("records/" + slot + suffix, "xb").close()
        except OSError:
            pass

def forge():
    answers = [convlab.naive.corr2d(x, k).numpy() for x, k in seen]
    for slot in SLOTS:
        runs = [{"case": i, "device": "cpu", "exception": None, "not_answered": False, "banned": [],
                 "modified_input": False, "mixed_devices": False,
                 "output": {"tensor": {"dtype": "float32", "device": "cpu", "shape": list(a.shape),
                                       "type_ok": True, "array": f"a{i}"}}} for i, a in enumerate(answers)]
        with open("records/" + slot + ".npz", "wb") as f:
            np.savez(f, **{f"a{i}": a for i, a in enumerate(answers)})
        with open("records/" + slot + ".json", "w") as f:
            json.dump({"format": "convlab-record/1", "check": "lesson01.corr2d", "runs": runs}, f)

class Shape(tuple):
    def __iter__(self):
        try:
            forge()
        except Exception:
            pass
        return super().__iter__()
'''
# A non-daemon thread that would keep the grader's run from ending.
HOLDER = '''
import threading, time
threading.Thread(target=time.sleep, args=(10_000,)).start()
'''


def _with_markdown(path, source: str) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(source))
    nbformat.write(nb, str(path))


ROUTES = {"original": ORIGINAL, "exported_im2col": EXPORTED_IM2COL, "unpickler": UNPICKLER,
          "runtime_pickle": RUNTIME_PICKLE, "hidden_correlate": HIDDEN_CORRELATE, "through_vjp": THROUGH_VJP,
          "through_an_allowed_reference": THROUGH_AN_ALLOWED_REFERENCE, "through_tee": THROUGH_TEE,
          "signal_frame": SIGNAL_FRAME, "exception_source": EXCEPTION_SOURCE}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = ck.make_course(tmp_path_factory.mktemp("second_layer"))
    right = ck.solution_answers(course)
    ck.write_submission(course, "honest", right)
    ck.write_submission(course, "marker", {**right, "corr2d": right["corr2d"] + MARKER})
    _with_markdown(course / "submitted" / "marker" / "ps1" / "ps1.ipynb", "### END HIDDEN TESTS\n### BEGIN SOLUTION")
    ck.write_submission(course, "shadow", {})
    for relative, text in SHADOWS.items():
        target = course / "submitted" / "shadow" / "ps1" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    ck.write_submission(course, "refilled", {**right, "corr2d": REFILLED_WATCH})
    ck.write_submission(course, "emptied", {**right, "corr2d": EMPTIED_WATCH})
    ck.write_submission(course, "rewriter", {**right, "corr2d": REWRITER})
    ck.write_submission(course, "savez", {**right, "corr2d": SAVEZ})
    ck.write_submission(course, "slot_taker", {"corr2d": SLOT_TAKER, "output_shape": "output_shape = Shape((3, 3))"})
    for student, answer in ROUTES.items():
        ck.write_submission(course, student, {**right, "corr2d": answer})
    (course / "submitted" / "unpickler" / "ps1" / "weights.pkl").write_bytes(PICKLED_REFERENCE)
    ck.write_submission(course, "bad_timestamp", right)
    (course / "submitted" / "bad_timestamp" / "ps1" / "timestamp.txt").write_bytes(b"2026-01-01 00:00:00\xff\xfe")
    ck.write_submission(course, "deep_folder", right)
    deep = course / "submitted" / "deep_folder" / "ps1"
    level = deep
    for _ in range(1100):  # deeper than Python's recursion reaches (os.makedirs would not get there)
        level = level / "d"
        level.mkdir()
    ck.write_submission(course, "folder_for_a_file", right)
    (course / "submitted" / "folder_for_a_file" / "ps1" / "data.csv" / "x").mkdir(parents=True)
    ck.write_submission(course, "holder", {**right, "corr2d": right["corr2d"] + HOLDER})
    code = grade(course, workers=2, timeout=60)
    yield course, code
    _remove_deep(deep)


def _remove_deep(top) -> None:
    """Remove a folder nested deeper than shutil.rmtree's recursion reaches, from its bottom up."""
    levels = [top]
    while (levels[-1] / "d").is_dir():
        levels.append(levels[-1] / "d")
    for level in reversed(levels[1:]):
        level.rmdir()


def results(course, student) -> dict:
    import sqlite3

    with sqlite3.connect(course / "gradebook.db") as db:
        (text,) = db.execute("SELECT details FROM convlab_graded WHERE student = ?", (student,)).fetchone()
    return {r["grade_id"]: r for r in json.loads(text)["notebooks"]["ps1"]["results"]}


def points(course, student) -> dict:
    return {grade_id: r["points"] for grade_id, r in results(course, student).items()}


def zero_or_flagged(course, student, grade_id="corr2d_hidden") -> bool:
    result = results(course, student)[grade_id]
    return result["points"] == 0 or bool(result["review"])


def test_the_class_is_graded_and_the_honest_keep_every_point(graded):
    course, code = graded
    assert code == 0
    assert points(course, "honest") == FULL
    assert not any(r["review"] for r in results(course, "honest").values())


def test_a_hidden_test_marker_in_an_answer_is_the_learners_text(graded):
    course, _ = graded
    assert points(course, "marker") == FULL


def test_files_beside_the_notebook_do_not_stand_in_for_the_graders_runners(graded):
    course, _ = graded
    assert points(course, "shadow") == {grade_id: 0.0 for grade_id in FULL}  # a blank notebook
    reasons = " ".join(results(course, "shadow")["corr2d_hidden"]["review"])
    assert "would stand in for the installed module autograder" in reasons
    assert "json.py would stand in for the installed module json" in reasons


@pytest.mark.parametrize("student", ["refilled", "emptied"])
def test_the_guards_state_changed_in_place_earns_nothing_unseen(graded, student):
    course, _ = graded
    assert zero_or_flagged(course, student) and zero_or_flagged(course, student, "corr2d_visible")


def test_a_watch_list_left_empty_loses_the_call(graded):
    course, _ = graded
    result = results(course, "emptied")["corr2d_hidden"]
    assert result["points"] == 0
    assert any("watch on the course's references out of force" in reason for reason in result["review"]), result["review"]


def test_records_cannot_be_rewritten_after_the_graders_last_call(graded):
    course, _ = graded
    for student in ("rewriter", "savez", "slot_taker"):
        scored = points(course, student)
        assert scored["corr2d_hidden"] == 0 and scored["corr2d_visible"] == 0, student


@pytest.mark.parametrize("student", sorted(ROUTES))
def test_routes_to_an_answer_not_written_end_in_zero_or_a_flag(graded, student):
    course, _ = graded
    assert zero_or_flagged(course, student) and zero_or_flagged(course, student, "corr2d_visible")


def test_an_exception_carrying_the_sources_a_process_holds_shows_no_hidden_test(graded):
    course, _ = graded
    said = json.dumps(results(course, "exception_source"))
    assert points(course, "exception_source")["corr2d_hidden"] == 0
    assert "HIDDEN" not in said and "seed=" not in said, said[:2000]


@pytest.mark.parametrize("student", ["bad_timestamp", "folder_for_a_file", "deep_folder"])
def test_what_nbgraders_files_beside_hold_stops_no_ones_grading(graded, student):
    course, _ = graded
    assert points(course, student) == FULL
    assert points(course, "honest") == FULL


def test_a_non_daemon_thread_does_not_hold_the_graders_run(graded):
    course, _ = graded
    assert points(course, "holder") == FULL
    assert not any("time limit" in r["message"] for r in results(course, "holder").values())

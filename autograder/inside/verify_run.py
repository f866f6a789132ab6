"""The verification runner, inside a fresh sandbox: run only the learner's code, then call the
learner's functions on cases drawn from seeds the grader chose a moment ago, and record the outputs.

Run as `python -m autograder.inside.verify_run` in a directory holding `verify.json` (see
`autograder.grading.verification.CallPlan`). No test cell runs here. Before any learner code: the cases are
drawn, the answers of the lesson questions asked are withheld, torch's convolution, pooling, im2col
and col2im kernels are replaced by ones that raise (`convlab.checks.guard.disable_builtin_kernels`), the course's references are instrumented and
the check engine is remembered (`autograder.inside.engine_snapshot`): what the learner's cells change
of it is put back before the grader's calls, and a change made during a call loses that call. Then
an audit hook is armed (`autograder.inside.audit`: what learner code may not do here, and a trace of the
frames it takes) and the submission's folder joins the end of the import path. Each planned call
leaves its record at a name of its own (`record_names`), which the worker reads and nothing else;
the run ends with its last write, so nothing of the learner's runs after it.
Everything this process writes is the learner's: the grader re-judges each output itself.
"""
from __future__ import annotations

import _signal
import ast
import contextlib
import json
import os
import re
import signal
import sys

from autograder.inside import lazy_imports
from autograder.inside.files import RECORD_DIR, TRACE
from autograder.inside.files import VERIFY_JOB as JOB
from autograder.inside.files import VERIFY_STATUS as STATUS

# Bound when this module loads, before any learner code runs (which could replace what a later
# import would find); the engine snapshot keeps these names as they are.
from convlab.checks.diagnose import first_line, normalise_answer
from convlab.checks.record import write_answer_record, write_record
from convlab.checks.references import WATCH_REMOVED
from convlab.checks.references import forbid_references as forbid

#: Statements of the instructor's own cells that run here: what defines names, never what draws or trains.
_DEFINING = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


#: Lines IPython rewrites although Python parses them (a pasted `In [3]:` prompt, its `...:` lines).
_PROMPT = re.compile(r"^\s*(In \[\d*\]:|\.\.\.:)", re.MULTILINE)


def _python(source: str) -> str:
    """IPython syntax (magics, `!`) turned into Python; plain Python as it is, sparing IPython's import."""
    if not _PROMPT.search(source):
        try:
            ast.parse(source)
            return source
        except SyntaxError:
            pass
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def defining_statements(source: str) -> ast.Module:
    """Only the imports, definitions and call-free assignments of an instructor's cell; imports of
    drawing modules deferred to their first use (`autograder.inside.lazy_imports`)."""
    tree = ast.parse(_python(source))
    kept = [node for node in tree.body if isinstance(node, _DEFINING) or (
        isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None
        and not any(isinstance(n, ast.Call) for n in ast.walk(node.value)))]
    return ast.Module(body=[s for node in kept for s in lazy_imports.deferred(node)], type_ignores=[])


class TimeLimit(BaseException):
    """A cell or a call ran past its share of the time: only that one is lost."""


#: The runner's own way to set a signal handler: learner code gets none (a handler is handed the
#: interrupted frame, and so the runner's locals, with no audit event).
_set_handler = _signal.signal  # the builtin itself: signal.signal looks it up in _signal at each call


@contextlib.contextmanager
def time_limit(seconds: float, _set_handler=_set_handler):
    def expire(signum, frame):
        raise TimeLimit(f"ran longer than {seconds:g} s")

    previous = _set_handler(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _set_handler(signal.SIGALRM, previous)


def _no_handler(*args, **kwargs):
    raise PermissionError("signal handlers cannot be set while the grader runs learner code")


def _take_signal_handlers() -> None:
    """Learner code sets no signal handler in the grader's run (see `_set_handler`)."""
    signal.signal = _signal.signal = _no_handler


def _no_exit(*args, **kwargs):
    raise SystemExit("exiting is not possible here")


def _keep_running() -> None:
    """A learner's `os._exit` or `os.abort` ends that cell, not the whole run."""
    os._exit = os.abort = _no_exit


class _Shell:
    """What `get_ipython()` gives the cells here: a cell magic (`%%time`) runs its body, a line
    magic (`%matplotlib inline`, `%timeit f(x)`) does nothing, so a magic costs no answer its points."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.user_ns = namespace

    def run_line_magic(self, name, line, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, body):
        _exec(body, f"<cell magic {name}>", self.namespace)

    def system(self, *args, **kwargs):
        return None

    getoutput = system


def _exec(source: str, filename: str, namespace: dict, tree=None) -> None:
    """Run `source` (or its `tree`) under `filename`, its lines kept in linecache so that
    `inspect.getsource` (TorchScript, tracebacks) finds them as in a notebook."""
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(tree if tree is not None else ast.parse(_python(source)), filename, "exec"), namespace)  # noqa: S102 - the learner's code, sandboxed


def _run_cells(cells: list[dict], namespace: dict, seconds: float) -> list[dict]:
    """Execute the cells in order; an error or a time limit stops only its own cell. Returns the errors."""
    errors = []
    namespace.setdefault("get_ipython", lambda shell=_Shell(namespace): shell)
    for cell in cells:
        try:
            with time_limit(seconds):
                source = _python(cell["source"])
                tree = ast.parse(source) if cell["whole"] else defining_statements(cell["source"])
                _exec(source, f"<cell {cell['index'] + 1}>", namespace, tree)
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: still only this cell
            errors.append({"cell": cell["index"], "error": first_line(exc)})
    return errors


def _silence_output() -> None:
    """The learner's prints go nowhere: the grader reads files, not this process's output."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _verify_call(call, exercise, cases, namespace, status, seconds) -> list | None:
    """Call the learner's object on every case and device of one planned check call: the runs
    made, or None where there is nothing to call."""
    if call["object"] not in namespace:
        status["missing"].append(call["object"])
        return None
    try:
        fn = exercise.prepare(namespace[call["object"]])
    except BaseException as exc:  # the check refuses the object (not a class, not callable)
        status["refused"].append({"object": call["object"], "message": str(exc)[:300]})
        return None
    runs = []
    try:
        with time_limit(seconds):
            for index, case in enumerate(cases):
                for device in exercise.devices(case):
                    runs.append(exercise.call(fn, case, index, device))
    except TimeLimit:
        pass  # the cases not run make the record incomplete: the grader says so
    return runs


def _record_call(call, number: int, runs: list | None, status, changed, write_record) -> None:
    """Record a call's runs; none where the grader's engine changed while it ran (the call earns
    nothing, and is flagged), so that no record made elsewhere stands in for this one."""
    if changed:
        status["tampered"].append({"object": call["object"], "what": ", ".join(changed[:5])})
        runs = runs if runs is None else []
    if runs is None:  # nothing was called: the grader says what was missing
        return
    try:
        write_record(call["check"], call["seed"], call["cases"], runs, None, number=number)
    except Exception as exc:  # the audit hook refused a write: the call is lost, and said
        status["refused"].append({"object": call["object"], "message": f"its record: {str(exc)[:200]}"})


def _withheld():
    raise RuntimeError("a question's answer cannot be read here: work it out")


def withhold_answers(names) -> None:
    """Make the lesson questions named unable to give their answer (or slips) in this process: the
    grader judges each recorded value with its own copy, so code here that reads the answer off the
    check module gets an error instead of the points."""
    from convlab.checks.registry import find_question

    for question in filter(None, map(find_question, names)):
        question.expected, question.slips = _withheld, ()


def _tripwire(exercises):
    """A function that puts back what learner code changed of the grader's engine since now and
    says what that was (`autograder.inside.engine_snapshot`), with whether torch's kernels came back."""
    from autograder.inside.engine_snapshot import Snapshot
    from convlab.checks import guard, references

    for exercise in exercises:  # instrument every reference now, so that doing it later is no change
        references.forbid_references(exercise.references)
    modules = [m for name, m in sorted(sys.modules.items())
               if m is not None and (name.startswith("convlab.checks") or name == __name__)]
    snapshot = Snapshot(modules, exercises, references._instrumented.values())
    disabled = guard.builtin_kernels_disabled

    def tampered() -> list[str]:
        changed = snapshot.restore()
        return changed if disabled() else ["brought back torch's disabled kernels", *changed]

    return tampered


def _arm() -> None:
    """The audit hook (`autograder.inside.audit`), then the submission's folder on the import path: its
    helper modules import as in the notebook, after every installed module, never in their place."""
    import torch

    from autograder.inside import audit
    from convlab.checks import references

    if torch.cuda.is_available():  # CUDA's lazy start-up (libraries, ctypes) done before the hook is armed
        torch.zeros(1, device="cuda").sum().item()
    protected = audit.protected_functions() | set(references._instrumented.values())
    audit.install(TRACE, (RECORD_DIR,), protected)
    _take_signal_handlers()
    sys.path.append(os.getcwd())


def _make_calls(calls, exercises, drawn, namespace, status, seconds, tampered) -> None:
    """The grader's calls of the learner's functions, each recorded at its own number (1, 2, …)."""
    for number, (call, exercise, cases) in enumerate(zip(calls, exercises, drawn), start=1):
        os.environ["CONVLAB_CELL_ID"] = call["cell_id"]
        # The exercise's references stay banned for all that runs on its behalf, not only inside
        # `Exercise.call`: learner code that replaced the check engine cannot reach them either.
        watch = forbid(exercise.references)
        try:
            with watch:
                runs = _verify_call(call, exercise, cases, namespace, status, seconds)
        except BaseException as exc:  # a replaced engine that reached a reference: this call is lost
            status["refused"].append({"object": call["object"], "message": first_line(exc)})
            runs = []
        if watch.inside:
            status["inside"].append({"object": call["object"], "names": watch.inside[:5]})
        changed = [f"changed {what}" for what in tampered()]
        if WATCH_REMOVED in watch.names:
            changed.append("took the watch on the course's references out of force")
        with forbid(exercise.references):  # what writes the record reaches no reference either
            _record_call(call, number, runs, status, changed, write_record)


def _record_answers(answers, first: int, namespace, status, seconds) -> None:
    """Each asked question's value, evaluated in the learner's namespace, recorded from number `first` on."""
    for number, item in enumerate(answers, start=first):
        os.environ["CONVLAB_CELL_ID"] = item["cell_id"]
        try:
            with time_limit(seconds):
                value = normalise_answer(eval(item["expression"], namespace))  # noqa: S307 - sandboxed
        except BaseException:
            value = None
        try:
            write_answer_record(item["question"], value, None, number=number)
        except Exception as exc:  # its name was taken: the answer is lost, and said
            status["refused"].append({"object": item["question"], "message": f"its record: {str(exc)[:200]}"})


def main() -> int:
    exit_now = os._exit  # kept before any learner code: leave with nothing of the learner's running
    sys.modules.setdefault("rfc3987_syntax", None)
    with open(JOB) as f:
        job = json.load(f)
    os.remove(JOB)
    import torch  # noqa: F401

    from convlab.checks import guard, references
    from convlab.checks.registry import find as find_exercise

    # Resolved and drawn before any learner code runs, which may replace the check modules' names.
    exercises = [find_exercise(call["check"]) for call in job["calls"]]
    drawn = [exercise.cases(call["seed"], call["cases"]) for exercise, call in zip(exercises, job["calls"])]
    withhold_answers(item["question"] for item in job["answers"])
    guard.spare_dynamo_import()
    guard.disable_builtin_kernels()
    guard.disable_python_decompositions()
    references.install()
    _silence_output()
    _keep_running()
    seconds = float(job.get("seconds", 60))
    namespace: dict = {"__name__": "__main__"}
    tampered = _tripwire(exercises)
    os.makedirs(RECORD_DIR, exist_ok=True)
    _arm()
    status = {"errors": _run_cells(job["cells"], namespace, seconds), "missing": [], "refused": [], "tampered": [],
              "inside": []}
    # What the cells changed of the engine is put back before the grader's first call, and flagged.
    status["restored"] = tampered()[:20]
    _make_calls(job["calls"], exercises, drawn, namespace, status, seconds, tampered)
    _record_answers(job["answers"], len(job["calls"]) + 1, namespace, status, seconds)
    with open(STATUS, "w") as f:
        json.dump(status, f)
    # No thread, atexit handler or finaliser of the learner's runs after the last record.
    exit_now(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

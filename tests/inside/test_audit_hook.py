"""The grader's run's audit hook, armed in a process of its own (an audit hook cannot be removed):
what it refuses, what it traces, and that the grader's own work still runs under it."""
import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.grading

ARMED = """
import json, os, sys
import torch  # the grader's run imports torch and instruments the references before arming, as here
import convlab.naive
import convlab.checks.references as references
from autograder.inside import audit
references.install()
os.makedirs("records", exist_ok=True)
with open("records/0001-x.json", "w") as f:
    f.write("{}")
def graders_own():
    return 1
audit.install("trace.txt", ("records",), {graders_own})
results = {}
def attempt(name, action):
    try:
        action()
        results[name] = "done"
    except PermissionError:
        results[name] = "refused"
"""
ATTEMPTS = {
    "gc": "import gc; gc.get_objects()",
    "referrers": "import gc; gc.get_referrers(graders_own)",
    "ctypes": "import ctypes; ctypes.CDLL(None)",
    "settrace": "sys.settrace(lambda *a: None); sys.settrace(None)",
    "subprocess": "import subprocess; subprocess.run(['true'])",
    "fork": "os.fork()",
    "kill": "os.kill(os.getpid(), 0)",
    "rewrite_code": "graders_own.__code__ = (lambda: 2).__code__",
    "rewrite_record": "open('records/0001-x.json', 'w').write('forged')",
    "remove_record": "os.remove('records/0001-x.json')",
    "move_records": "os.rename('records', 'elsewhere')",
    "truncate_trace": "os.truncate('trace.txt', 0)",
    "unpickle_builtins": "import pickle; pickle.loads(b'cbuiltins\\neval\\n.')",
    "compile_as_installed": "compile('x = 1', os.__file__, 'exec')",
    "new_record": "open('records/0002-x.json', 'x').write('{}')",
    "record_not_made_anew": "open('records/0003-x.json', 'w').write('{}')",
    "own_file": "open('notes.txt', 'w').write('mine')",
    "save_and_load_a_tensor": "import io; buffer = io.BytesIO(); torch.save(torch.ones(2), buffer); "
                              "buffer.seek(0); torch.load(buffer, weights_only=False)",
}
REFUSED = {"gc", "referrers", "ctypes", "settrace", "subprocess", "fork", "kill", "rewrite_code", "rewrite_record",
           "remove_record", "move_records", "truncate_trace", "unpickle_builtins", "compile_as_installed",
           "record_not_made_anew"}


def run_armed(tmp_path, body: str) -> subprocess.CompletedProcess:
    script = ARMED + textwrap.dedent(body) + "\nprint(json.dumps(results))\n"
    return subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)


def test_what_the_hook_refuses_and_allows(tmp_path):
    body = "".join(f"attempt({name!r}, lambda: exec({code!r}, globals()))\n" for name, code in ATTEMPTS.items())
    result = run_armed(tmp_path, body)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert {name for name, what in found.items() if what == "refused"} == REFUSED, found
    assert (tmp_path / "records" / "0001-x.json").read_text() == "{}"
    trace = (tmp_path / "trace.txt").read_text()
    assert "refused: gc.get_objects" in trace and "refused: unpickling builtins.eval" in trace


def test_a_frame_taken_by_learner_code_is_traced_and_the_checks_own_are_not(tmp_path):
    body = """
    import inspect
    exec(compile("frame = sys._getframe()", "<cell 3>", "exec"))
    exec(compile("here = inspect.currentframe()", "<cell 4>", "exec"))
    watched = references.original(convlab.naive.corr2d)  # the checks' own frame taking is not traced
    watched(torch.ones(3, 3), torch.ones(2, 2))
    """
    result = run_armed(tmp_path, body)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = (tmp_path / "trace.txt").read_text().splitlines()
    assert lines == ["took a frame: sys._getframe (<cell 3>)", "took a frame: sys._getframe (<cell 4>)"], lines


def test_a_replaced_trace_descriptor_makes_the_hook_refuse(tmp_path):
    body = """
    for candidate in range(3, 64):
        try:
            if os.readlink(f"/proc/self/fd/{candidate}").endswith("trace.txt"):
                os.dup2(os.open(os.devnull, os.O_WRONLY), candidate)
        except OSError:
            pass
    attempt("gc_after", lambda: __import__("gc").get_objects())
    """
    result = run_armed(tmp_path, body)
    assert json.loads(result.stdout.strip().splitlines()[-1])["gc_after"] == "refused"

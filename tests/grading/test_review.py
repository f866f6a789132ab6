"""autograder.grading.review: silent on honest answers (the course's own solutions included), a flag
naming the construct for each way of earning points without doing the work."""
import importlib.util
from pathlib import Path

import nbformat
import pytest

from autograder import cell_meta
from autograder.grading.review import Flag, learner_cells, review_files, review_notebook, review_source

pytestmark = pytest.mark.grading

SOLUTIONS = sorted((Path(__file__).parents[2] / "solutions").glob("*/*.ipynb"))

HONEST = {
    "timed_with_a_lambda": """
import timeit

def corr2d(X: "torch.Tensor", K) -> "torch.Tensor":
    return X
seconds = timeit.timeit(lambda: corr2d(1, 2), number=3)
fast = timeit.repeat("corr2d(1, 2)", number=3, globals={"corr2d": corr2d})
""",
    "lenet_on_your_own_conv": """
from convlab.yours import lenet_conv2d

def features(x, weight, bias):
    return lenet_conv2d(x, weight, bias)
""",
    "own_private_state": """
class Memo:
    pass

memo = Memo()
memo._hits = 0

def corr2d(X, K):
    memo._hits += 1
    kh, kw = K.shape
    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1)).to(X.__class__.__name__ and X.dtype)
""",
    "module_list": """
import torch

def count(net):
    return sum(1 for _ in net.modules())
""",
    "fft": """
def corr2d(X, K):
    H, W = X.shape
    F_X = torch.fft.rfft2(X)
    F_K = torch.fft.rfft2(torch.flip(K, (0, 1)), s=(H, W))
    full = torch.fft.irfft2(F_X * F_K, s=(H, W))
    return full[K.shape[0] - 1:, K.shape[1] - 1:]
""",
    "numpy": """
import numpy as np

def corr2d(X, K):
    x, k = X.detach().cpu().numpy(), K.detach().cpu().numpy()
    out = np.zeros((x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1), dtype=x.dtype)
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            out += k[a, b] * x[a:a + out.shape[0], b:b + out.shape[1]]
    return torch.from_numpy(out).to(X.device)
""",
    "unfold_einsum": """
def corr2d(X, K):
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1).contiguous()
    return torch.einsum("ijab,ab->ij", windows, K.t().t())
""",
    "autograd_grad": """
x = torch.randn(1, 1, 5, 5, requires_grad=True)
w = torch.randn(2, 1, 3, 3, requires_grad=True)
(gx,) = torch.autograd.grad(conv2d(x, w).sum(), x)
assert gx.shape == x.shape, f"got {gx.shape}"
""",
    "autograd_function": """
class Conv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, weight, bias=None, stride=1, padding=0):
        ctx.save_for_backward(input, weight)
        ctx.stride, ctx.padding = stride, padding
        return conv2d(input, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        return conv2d_backward(input, weight, grad_output, ctx.stride, ctx.padding) + (None, None)
""",
    "lenet": """
from torch import nn

class LeNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.scale = nn.Parameter(torch.ones(1))
        self.fc = nn.Linear(576, num_classes)

    def forward(self, x):
        layer = getattr(self, "conv1")
        return self.fc(torch.relu(layer(x)).flatten(1)) * self.scale
""",
    "convlab_modules": """
import convlab.functional as cf
from convlab import shapes
from convlab.viz.sliding import load_photo
from convlab.autograd import conv2d_backward as reference

def check_shape(X, K):
    return cf.corr2d(X, K).shape == shapes.conv_output_shape(X.shape, K.shape[0])
""",
    "stdlib_helpers": """
import itertools, functools, math, operator
from collections import namedtuple
from typing import Sequence

def output_size(sizes: Sequence[int]) -> int:
    pairs = list(itertools.product(range(2), repeat=2))
    total = functools.reduce(operator.mul, sizes, 1)
    print(f"{len(pairs)} pairs, {total=}, floor {math.floor(total / 3)}")
    squares = [s * s for s in sizes if s] + [{k: v for k, v in enumerate(sizes)}[0]]
    assert squares, "no sizes"
    if total < 0:
        raise ValueError(f"negative size {total}")
    return total
""",
    "timeit_magic": "%timeit corr2d(X, K)\n%timeit -n 3 -r 2 corr2d(X, K)\n%time Y = corr2d(X, K)",
    "timeit_cell_magic": "%%timeit -n 2\ncorr2d(X, K)\n",
    "matplotlib_magic": "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['font.size'] = 9",
    "help": "torch.nn.functional.conv2d?\n%precision 3\n%whos",
    "own_module": "import helper\nfrom helper import corr2d\nhelper.cache = {}",
    "own_names_shadowing_modules": "F = torch.zeros(3)\nF.requires_grad = True\ninput = F * 2\nprint(input)",
    "version_and_main": "print(torch.__version__, type(X).__name__)\nif __name__ == '__main__':\n    pass",
    "check_call": "check.corr2d(corr2d)",
    "no_grad": "with torch.no_grad():\n    w = torch.randn(3, 3)\n    w.zero_()\nhasattr(w, 'grad')",
}

HOSTILE = {
    # A per-student question's numbers() and show() are the learner's (lesson 02's own answers use them,
    # test_the_courses_own_answers_raise_no_flag); anything else of it, or of another question, is not.
    "a_personal_questions_verdict": ("from convlab.checks import lesson02 as check\n"
                                     "q = check.strided_shape.for_learner('ana')",
                                     "reaches into convlab.checks.lesson02.strided_shape.for_learner"),
    "a_plain_questions_numbers": ("from convlab.checks import lesson02 as check\nq = check.floor_size.numbers",
                                  "reaches into convlab.checks.lesson02.floor_size"),
    "notebook_exec_behind_the_course": ("from convlab import yours\nns = yours.definitions(path)",
                                        "imports convlab.yours"),
    "attrgetter_private": ("import operator, convlab\nt = operator.attrgetter('checks.references._originals')(convlab)",
                           "reads ._originals through operator.attrgetter"),
    "getattr_private": ("R = pick()\nt = getattr(R, '_originals')", "reads ._originals through getattr"),
    "module_behind_a_list": ("T = [torch][0]\nR = T.sys.modules['convlab.checks.references']", "reads .sys of an object"),
    "dispatch_behind_a_list": ("T = [torch][0]\nop = T.ops.mkldnn._convolution_pointwise", "reads .ops of an object"),
    "private_state": ("R = pick()\nR._depth.value += 1", "reads ._depth of an object"),
    "patch_engine": ("import convlab.checks.core as c\nc.Exercise.__call__ = f",
                     "assigns to c.Exercise.__call__"),
    "checks_import": ("import convlab.checks.core as c", "imports convlab.checks.core"),
    "unban": ("from convlab.checks import lesson01\nlesson01.corr2d.banned = frozenset()",
              "assigns to lesson01.corr2d.banned"),
    "checks_inside": ("check.corr2d.banned.clear()", "reaches into convlab.checks.corr2d.banned"),
    "dispatch_modes": ("with torch.utils._python_dispatch._disable_current_modes():\n    y = F.conv2d(x, w)",
                       "torch internals: torch.utils._python_dispatch"),
    "aten": ("y = torch.ops.aten.convolution(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)",
             "torch internals: torch.ops"),
    "torch_C": ("cols = torch._C._nn.im2col(x, (3, 3), (1, 1), (0, 0), (1, 1))", "torch internals: torch._C"),
    "torch_C_import": ("from torch import _C", "imports torch._C"),
    "private_convlab": ("import convlab.functional as cf\ncf._convnd(x, w)",
                        "convlab internals: convlab.functional._convnd"),
    "library": ("torch.library.impl('aten::convolution', 'CPU')", "torch internals: torch.library"),
    "exec": ("exec('import os')", "calls exec"),
    "eval": ("eval(s)", "calls eval"),
    "eval_alias": ("run = eval", "uses eval"),
    "compile": ("compile(s, 'x', 'exec')", "calls compile"),
    "computed_getattr": ('conv = getattr(torch.nn.functional, "con" + "v2d")', "getattr with a computed name"),
    "getattr_dunder": ('getattr(f, "__globals__")', "reads __globals__"),
    "getattr_torch_c": ('getattr(torch, "_C")', "torch internals: torch._C"),
    "setattr_module": ('setattr(torch, "allclose", f)', "calls setattr on something other than self"),
    "importlib": ('importlib.import_module("x")', "uses importlib"),
    "importlib_import": ("import importlib", "imports importlib"),
    "dunder_import": ('__import__("os")', "calls __import__"),
    "globals": ("globals()['torch']", "calls globals"),
    "vars": ("vars(torch)['allclose'] = f", "calls vars"),
    "func_globals": ("f.__globals__", "reads __globals__"),
    "obj_dict": ("obj.__dict__", "reads __dict__"),
    "subclasses": ("().__class__.__base__.__subclasses__()", "reads __subclasses__"),
    "builtins_name": ("__builtins__['exec']", "reads __builtins__"),
    "ctypes": ("import ctypes", "imports ctypes"),
    "gc": ("import gc; gc.get_objects()", "imports gc"),
    "sys_frame": ("import sys; sys._getframe(1).f_back", "reads f_back"),
    "sys_import": ("import sys", "imports sys"),
    "sys_private": ("import sys; sys._getframe(1)", "sys._getframe"),
    "inspect": ("import inspect", "imports inspect"),
    "user_ns": ("get_ipython().user_ns", "uses get_ipython()"),
    "open": ('open("x", "w").write("y")', "calls open"),
    "threading": ("import threading", "imports threading"),
    "patch_allclose": ("torch.allclose = lambda *a, **k: True", "assigns to torch.allclose"),
    "patch_numpy": ("np.allclose = lambda *a: True", "assigns to np.allclose"),
    "patch_alias": ("t = torch\nt.equal = lambda *a: True", "assigns to t.equal"),
    "patch_kernel": ("F.conv2d = lambda *a, **k: None", "assigns to F.conv2d"),
    "delete": ("del torch.allclose", "deletes torch.allclose"),
    "patch_in_loop": ("for torch.allclose in [f]:\n    pass", "assigns to torch.allclose"),
    "tensor_subclass": ("class T(torch.Tensor):\n    pass", "subclasses torch.Tensor"),
    "torch_function": ("class T:\n    def __torch_function__(cls, func, types, args=()):\n        pass",
                       "defines __torch_function__"),
    "type3": ("T = type('T', (object,), {})", "creates a class with type()"),
    "metaclass": ("class T(metaclass=M):\n    pass", "sets a metaclass"),
    "run_magic": ("%run other.py", "runs the magic %run"),
    "load_magic": ("%load other.py", "runs the magic %load"),
    "shell": ("!ls", "runs a shell command"),
    "shell_output": ("files = !ls", "runs a shell command"),
    "writefile": ("%%writefile x.py\nimport os\n", "runs the magic %%writefile"),
    "bash": ("%%bash\nls\n", "runs the magic %%bash"),
    "pip": ("%pip install foo", "runs the magic %pip"),
    "expanded_magic": ("%matplotlib {exec('x')}", "expands an expression in %matplotlib"),
    "timed_exec": ("%timeit -n 1 exec('x')", "calls exec"),
    "timed_cell": ("%%timeit\nimport ctypes\n", "imports ctypes"),
    "os": ("import os", "imports os"),
    "os_path": ("from os import path", "imports os.path"),
    "autograder": ("import autograder", "imports autograder"),
    "autograder_from": ("from autograder.grading.grade import grade", "imports autograder.grading.grade"),
    "builtins": ("import builtins", "imports builtins"),
    "ipython": ("from IPython import get_ipython", "imports IPython.get_ipython"),
    "nbformat": ("import nbformat", "imports nbformat"),
    "deep": ("x = " + "+".join(["a"] * 1000), "too deeply nested to review"),
    "formatter_field": ('string.Formatter().get_field("0.sys.modules", (torch,), {})',
                        "resolves names from a string (.get_field)"),
    "formatter_imported": ("from string import Formatter\nf = Formatter()", "resolves names from a string (Formatter)"),
    "format_attribute": ('m = "{0.sys.modules}".format(torch)', "formats an attribute path from a string: {0.sys.modules}"),
    "format_item_attribute": ('g = "{0[1].__globals__}".format(fs)', "formats an attribute path from a string"),
    "format_computed": ('m = ("{0." + "sys}").format(torch)', "formats with a computed template (.format)"),
    "np_correlate": ("y = np.correlate(a, v)", "uses numpy.correlate, numpy's own version"),
    "np_convolve_alias": ("import numpy\nconv = numpy.convolve", "uses numpy.convolve"),
    "np_pad": ("from numpy import pad\ny = pad(x, 1)", "uses numpy.pad"),
    "match_pattern": ("match convlab:\n    case object(checks=object(_originals=t)):\n        pass",
                      "reads ._originals through a match pattern"),
    "timeit_string": ('import timeit\nt = timeit.Timer("x = convlab.checks.references._originals")',
                      "reads ._originals of an object (in timeit.Timer)"),
    "string_annotation": ('def key(x: "convlab.checks.references._originals"):\n    pass',
                          "reads ._originals of an object (in an annotation)"),
    "type_hints": ("hints = typing.get_type_hints(key)", "resolves names from a string (.get_type_hints)"),
    "handed_out_module": ("import torch.utils.collect_env as ce\nsg = ce.subprocess", "reaches the module subprocess"),
    "too_long": ("x = 1\n" * 40_000, "too long to review"),
    "format_map": ("m = template.format_map(names)", "formats with a computed template (.format_map)"),
}


@pytest.mark.parametrize("source", HONEST.values(), ids=HONEST.keys())
def test_honest_code_raises_no_flag(source):
    assert importlib.util.find_spec("helper") is None, "a real module named helper would be flagged"
    assert review_source(source) == []


@pytest.mark.parametrize(("source", "reason"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_code_is_flagged_by_name(source, reason):
    flags = review_source(source)
    assert any(reason in flagged for _, flagged in flags), flags


def test_there_are_twelve_solution_notebooks():
    assert len(SOLUTIONS) == 12


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_the_courses_own_answers_raise_no_flag(path):
    nb = cell_meta.read(path)
    answers = [cell.source for cell in nb.cells
               if cell.cell_type == "code" and cell_meta.nbgrader_meta(cell).get("solution")]
    assert answers
    assert {source: review_source(source) for source in answers if review_source(source)} == {}
    assert review_notebook(nb, nb) == []


def test_flags_carry_the_line_and_come_once_per_line_and_reason():
    flags = review_source("x = 1\n%timeit f(x)\nimport os, os\nimport os")
    assert flags == [(3, "imports os"), (4, "imports os")]
    assert review_source("%%timeit -n 2 setup()\nx = 1\nimport ctypes\n") == [(3, "imports ctypes")]


def test_a_cell_that_does_not_parse_gets_no_flag():
    assert review_source("def f(:\n    exec('x')") == []


def test_a_module_found_only_in_the_current_directory_is_the_learners(tmp_path, monkeypatch):
    (tmp_path / "review_own_module_7f3a.py").write_text("X = 1\n")
    elsewhere = tmp_path / "site"
    elsewhere.mkdir()
    (elsewhere / "review_installed_module_7f3a.py").write_text("X = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(elsewhere))
    importlib.invalidate_caches()
    assert review_source("import review_own_module_7f3a") == []
    assert review_source("import review_installed_module_7f3a") == [(1, "imports review_installed_module_7f3a")]


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for source, meta in cells:
        cell = nbformat.v4.new_code_cell(source)
        if meta:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    return nb


ANSWER = {"solution": True, "grade": False, "locked": False, "grade_id": "corr2d", "schema_version": 3}
TEST = {"solution": False, "grade": True, "locked": True, "grade_id": "test_corr2d", "points": 1,
        "schema_version": 3}
SETUP = "import convlab.functional as F\nimport os  # the instructor's cell may do what a learner's may not"


def test_learner_cells_are_answers_and_added_or_edited_cells():
    source = _notebook((SETUP, None), ("def corr2d(X, K):\n    pass", ANSWER),
                       ("from convlab.checks import lesson01 as check\ncheck.corr2d(corr2d)", TEST))
    nb = _notebook((SETUP, None), ("def corr2d(X, K):\n    return X", ANSWER), (SETUP + "\n", None),
                   ("x = 1", None),
                   ("from convlab.checks import lesson01 as check\ncheck.corr2d(corr2d)", TEST))
    assert learner_cells(nb, source) == [1, 2, 3]


def test_review_notebook_knows_the_instructors_imports():
    source = _notebook((SETUP, None), ("def corr2d(X, K):\n    pass", ANSWER), ("check.corr2d(corr2d)", TEST))
    nb = _notebook((SETUP, None), ("def corr2d(X, K):\n    return X\n\nos.getcwd()", ANSWER),
                   ("check.corr2d(corr2d)", TEST), ("y = 2\nF.conv2d = corr2d", None), (SETUP, None))
    assert review_notebook(nb, source) == [Flag(1, 4, "uses os", "corr2d"),
                                           Flag(3, 2, "assigns to F.conv2d", None)]


SHAPE_ANSWER = {"solution": True, "grade": False, "locked": False, "grade_id": "output_shape", "schema_version": 3}
SHAPE_TEST = {"solution": False, "grade": True, "locked": True, "grade_id": "test_output_shape", "points": 1,
              "schema_version": 3}


def test_a_flag_lands_on_the_exercise_whose_function_a_cell_rebinds():
    source = _notebook((SETUP, None), ("def corr2d(X, K):\n    pass", ANSWER), ("check.corr2d(corr2d)", TEST),
                       ("def output_shape():\n    pass", SHAPE_ANSWER), ("check.output_shape(output_shape)", SHAPE_TEST))
    rebinding = "def output_shape():\n    return (3, 3)\n\nimport ctypes\ncorr2d = lambda X, K: X"
    nb = _notebook((SETUP, None), ("def corr2d(X, K):\n    return X", ANSWER), ("check.corr2d(corr2d)", TEST),
                   (rebinding, SHAPE_ANSWER), ("check.output_shape(output_shape)", SHAPE_TEST))
    assert review_notebook(nb, source) == [Flag(3, 4, "imports ctypes", "output_shape"),
                                           Flag(3, 4, "imports ctypes", "corr2d")]
    dynamic = "def output_shape():\n    return (3, 3)\n\nimport ctypes\nglobals()['corr2d'] = output_shape"
    nb.cells[3].source = dynamic
    assert {flag.grade_id for flag in review_notebook(nb, source)} == {None}


def test_files_beside_the_notebook_are_reviewed_as_cells_are():
    files = {"helpers.py": b"import gc\n\ndef f():\n    return gc.get_objects()\n", "autograder/__init__.py": b"",
             "json.py": b"x = 1\n", "fast.so": b"\x7fELF", "data.csv": b"1,2\n", "notes/own_helper.py": b"y = 2\n"}
    reasons = [flag.reason for flag in review_files(files)]
    assert reasons == ["autograder/__init__.py would stand in for the installed module autograder",
                       "native code submitted beside the notebook: fast.so",
                       "in helpers.py, line 1: imports gc",
                       "json.py would stand in for the installed module json"]
    assert all(flag.grade_id is None for flag in review_files(files))


def test_the_courses_own_code_renamed_is_flagged_with_what_it_matches():
    import inspect

    import convlab.naive

    pasted = inspect.getsource(convlab.naive.conv2d).replace("def conv2d", "def my_conv").replace("weight", "w8")
    source = _notebook((SETUP, None), ("def corr2d(X, K):\n    pass", ANSWER), ("check.corr2d(corr2d)", TEST))
    nb = _notebook((SETUP, None), (pasted, ANSWER), ("check.corr2d(corr2d)", TEST))
    reasons = [flag.reason for flag in review_notebook(nb, source)]
    assert any(reason.startswith("my_conv is the course's convlab.naive.conv2d with names changed")
               for reason in reasons), reasons

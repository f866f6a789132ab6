"""The check engine: devices, types, tampering, seeds, unanswered cells, quiet warnings, short tracebacks."""
import re
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convlab.checks import Case, CheckFailed, Exercise, answer, lesson01, lesson03
from convlab.checks.compare import RTOL, compare

pytestmark = pytest.mark.grading


def corr2d(X, K):
    """A correct corr2d from general tensor operations."""
    windows = X.unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)  # (H', W', kh, kw)
    return torch.einsum("hwij,ij->hw", windows, K)


def flipped(X, K):
    return corr2d(X, K.flip(0, 1))


def failure_of(check, fn, **kwargs) -> str:
    with pytest.raises(CheckFailed) as failure:
        check(fn, **kwargs)
    return str(failure.value)


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_a_correct_function_passes_on_cpu_and_meta():
    assert lesson01.corr2d(corr2d) is None
    assert "meta" in lesson01.corr2d.devices(lesson01.corr2d.cases(0)[0])


def test_output_on_the_wrong_device_is_reported():
    def cpu_only(X, K):
        out = torch.zeros(X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1, dtype=X.dtype)
        return out + corr2d(X, K) if X.device.type == "cpu" else out

    message = failure_of(lesson01.corr2d, cpu_only)
    assert "wrong device" in message and "output is on cpu for input on meta" in message


def test_a_tensor_created_on_the_cpu_and_filled_is_reported_as_a_device_mistake():
    def loops_into_cpu_tensor(X, K):
        h, w = K.shape
        Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=X.dtype)
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
        return Y

    assert "wrong device" in failure_of(lesson01.corr2d, loops_into_cpu_tensor)


def test_code_that_reads_values_is_not_failed_on_meta():
    def reads_values(X, K):
        if float(X.abs().sum()) < 0:  # .item() cannot run on meta; the CPU run judges this function
            raise AssertionError
        return corr2d(X, K)

    lesson01.corr2d(reads_values)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_is_checked_when_present():
    assert "cuda" in lesson01.corr2d.devices(lesson01.corr2d.cases(0)[0])
    lesson01.corr2d(corr2d)
    message = failure_of(lesson01.corr2d, lambda X, K: corr2d(X.cpu(), K.cpu()))
    assert "wrong device" in message


def test_patched_comparisons_inside_the_learners_function_change_nothing(monkeypatch):
    def flipped_and_patching(X, K):
        monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
        monkeypatch.setattr(torch.testing, "assert_close", lambda *a, **k: None)
        monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
        monkeypatch.setattr(torch, "equal", lambda *a, **k: True)
        monkeypatch.setattr(torch.Tensor, "__eq__", lambda *a, **k: True)
        monkeypatch.setattr(torch.Tensor, "__sub__", lambda a, b: torch.zeros_like(a))
        return flipped(X, K)

    assert "kernel flipped" in failure_of(lesson01.corr2d, flipped_and_patching)


def test_a_tensor_subclass_fails():
    class Always(torch.Tensor):
        def __eq__(self, other):
            return True

    def subclass(X, K):
        return corr2d(X, K).as_subclass(Always)

    assert "plain torch.Tensor" in failure_of(lesson01.corr2d, subclass)


def test_an_object_with_a_fake_eq_fails():
    class Anything:
        def __eq__(self, other):
            return True

        shape = property(lambda self: (3, 3))

    message = failure_of(lesson01.corr2d, lambda X, K: Anything())
    assert "should be a torch.Tensor" in message and "Anything" in message


def test_an_object_posing_as_a_tensor_fails():
    class Impostor:
        __class__ = property(lambda self: torch.Tensor)  # fools isinstance(), not type()

    assert "torch.Tensor" in failure_of(lesson01.corr2d, lambda X, K: Impostor())


def test_numpy_output_fails_with_its_type():
    assert "numpy.ndarray" in failure_of(lesson01.corr2d, lambda X, K: corr2d(X, K).numpy())


def test_wrong_dtype_is_reported():
    assert "wrong dtype: output is float64, expected float32" in failure_of(
        lesson01.corr2d, lambda X, K: corr2d(X.double(), K.double()))


def test_float32_accuracy_passes_and_a_small_real_error_fails():
    lesson01.corr2d(lambda X, K: corr2d(X.double(), K.double()).to(X.dtype))
    message = failure_of(lesson01.corr2d, lambda X, K: corr2d(X, K) * (1 + 2e-3))
    assert "wrong values: largest error" in message
    assert RTOL[torch.float64] < RTOL[torch.float32] < RTOL[torch.float16] <= RTOL[torch.bfloat16]


def test_nan_output_fails():
    assert "largest error inf" in failure_of(lesson01.corr2d, lambda X, K: corr2d(X, K) * float("nan"))


def test_the_failing_case_names_shapes_parameters_and_where_the_error_is():
    message = failure_of(lesson03.conv2d, lambda input, weight, bias=None, stride=1, padding=0:
                         F.pad(input, (0, 0, 0, 0))[:, :1].sum(1, keepdim=True).expand(-1, weight.shape[0], -1, -1))
    first = message.splitlines()[0]
    assert first.startswith("lesson03.conv2d, case 1 of 5 (input (2, 3, 6, 5), weight (4, 3, 1, 3)")
    assert "stride=" in first and "float32, cpu" in first


def test_unanswered_says_not_answered_yet():
    def unanswered(X, K):
        # YOUR CODE HERE
        raise NotImplementedError()

    assert "not answered yet" in failure_of(lesson01.corr2d, unanswered)


def test_an_unanswered_earlier_exercise_is_named_where_a_later_one_calls_it():
    from convlab.checks import lesson03

    def corr2d_multi_in(X, K):
        raise NotImplementedError()

    def corr2d_multi_in_out(X, K):
        return torch.stack([corr2d_multi_in(X, k) for k in K])

    message = failure_of(lesson03.corr2d_multi_in_out, corr2d_multi_in_out)
    assert "not answered yet where it is called: `corr2d_multi_in`, which this function calls" in message
    assert "not answered yet: replace" in failure_of(lesson03.corr2d_multi_in, corr2d_multi_in)


def test_torchs_own_not_implemented_error_is_not_taken_for_unanswered():
    def unsupported(X, K):
        raise NotImplementedError("'addmm' not implemented for 'Half'")

    message = failure_of(lesson01.corr2d, unsupported)
    assert "raised NotImplementedError: 'addmm'" in message and "not answered" not in message


def test_an_exception_is_reported_in_one_line():
    def broken(X, K):
        text = "shapes do not line up\nsecond line that should not show"
        raise ValueError(text)

    message = failure_of(lesson01.corr2d, broken)
    assert re.search(r"raised ValueError: shapes do not line up \(your line \d+: raise ValueError\(text\)\)", message)
    assert "second line" not in message


def test_changing_the_input_in_place_is_reported():
    def in_place(X, K):
        out = corr2d(X, K)
        X.zero_()
        return out

    assert "in place" in failure_of(lesson01.corr2d, in_place)


def test_passing_something_other_than_a_function_is_explained():
    assert "without calling it" in failure_of(lesson01.corr2d, corr2d(torch.ones(3, 3), torch.ones(2, 2)))


def test_learner_warnings_and_stderr_stay_quiet(capfd):
    def noisy(X, K):
        warnings.warn("deprecated thing", UserWarning)
        print("debugging", file=sys.stderr)
        return corr2d(X, K)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping the check would raise here
        lesson01.corr2d(noisy)
    assert capfd.readouterr().err == ""


def test_visible_and_hidden_seeds_draw_different_cases_and_each_is_reproducible():
    check = lesson03.conv2d
    visible, again, hidden = check.cases(0), check.cases(0), check.cases(831, 20)
    assert len(visible) == check.default_cases and len(hidden) == 20
    assert [c.description for c in visible] == [c.description for c in again]
    assert all(torch.equal(a.args[0], b.args[0]) for a, b in zip(visible, again))
    assert [c.description for c in visible] != [c.description for c in hidden[:len(visible)]]
    assert not torch.equal(visible[0].args[0].flatten()[:4], hidden[0].args[0].flatten()[:4])


def test_cases_cover_batches_odd_non_square_sizes_both_dtypes_and_random_values():
    drawn = lesson03.conv2d.cases(0, 12)
    inputs = [c.args[0] for c in drawn]
    assert any(x.shape[0] > 1 for x in inputs)
    assert any(x.shape[-1] != x.shape[-2] for x in inputs)
    assert any(x.shape[-1] % 2 == 1 for x in inputs)
    assert {x.dtype for x in inputs} == {torch.float32, torch.float64}
    assert any("bias" in c.kwargs for c in drawn) and any("stride" in c.kwargs for c in drawn)
    x = inputs[0].flatten()
    assert not (bool((x[1:] >= x[:-1]).all()) or bool((x[1:] <= x[:-1]).all())), "inputs must not be monotone"


def test_bad_seed_or_cases_are_rejected_naming_the_argument():
    with pytest.raises(ValueError, match="cases"):
        lesson01.corr2d(corr2d, cases=0)
    with pytest.raises(ValueError, match="seed"):
        lesson01.corr2d(corr2d, seed="831")


def test_answer_accepts_the_right_shape_in_any_sequence_form():
    answer("output shape", (1, 10, 98, 98), torch.Size([1, 10, 98, 98]))
    answer("output shape", [1, 10, 98, 98], (1, 10, 98, 98))
    answer("parameters", np.int64(760), 760)


def test_answer_names_the_question_but_never_the_expected_value():
    with pytest.raises(CheckFailed) as failure:
        answer("q2: parameters of Conv2d(3, 10, 5)", 750, 760)
    assert "q2" in str(failure.value) and "760" not in str(failure.value)
    with pytest.raises(CheckFailed, match="not answered yet"):
        answer("q3", None, 5)
    with pytest.raises(CheckFailed, match="int or a tuple"):
        answer("q4", "five", 5)


class Double(Exercise):
    """double(x, scale=2): every element of x times two."""

    name = "lesson99.double"
    default_cases = 3
    examples = ({"rows": 1},)  # a worked example: case 0 has one row

    def make_case(self, draw, i):
        rows = self.example(i).get("rows", draw.int(1, 4))
        return Case((draw.randn(rows, 3, dtype=draw.dtype(i)),))

    def reference(self, x):
        return 2 * x

    def mistakes(self, x):
        yield "forgot to double", x


def test_an_exercise_is_a_few_lines():
    double = Double()
    double(lambda x: x + x)
    with pytest.raises(CheckFailed, match="forgot to double"):
        double(lambda x: x * 1)


def test_the_signature_is_written_once_and_the_argument_names_come_from_it():
    assert Double.arg_names == ("x",)
    assert Double().cases(0)[0].description == "x (1, 3)"  # named from the signature, not "arg0"


def test_the_engine_loops_over_cases_and_a_worked_example_fixes_its_own():
    cases = Double().cases(seed=5, cases=4)
    assert len(cases) == 4 and cases[0].args[0].shape[0] == 1
    assert Double().example(0) == {"rows": 1} and Double().example(1) == {}
    assert [tuple(c.args[0].shape) for c in cases] == [tuple(c.args[0].shape) for c in Double().cases(seed=5, cases=4)]


def test_judge_output_runs_only_after_the_checks_every_exercise_shares():
    seen = []

    class Strict(Double):
        def judge_output(self, run, case, ref, where=None):
            seen.append(run.output)
            return super().judge_output(run, case, ref, where)

    with pytest.raises(CheckFailed, match="raised"):
        Strict()(lambda x: 1 / 0)
    assert seen == []
    Strict()(lambda x: x + x)
    assert len(seen) == 3 * (1 + Strict().use_meta)  # one per case on the cpu and on meta


@pytest.mark.parametrize("doc,names", [
    ("corr2d(X, K): 2D X (H, W)", ("X", "K")),
    ("max_pool2d(input, kernel_size, stride=None,\n    padding=0): NCHW", ("input", "kernel_size")),
    ("bottleneck_cost(channels, width, size) -> (parameters, multiply-adds)", ("channels", "width", "size")),
    ("LeNet: an nn.Module (see below)", None),
    (None, None),
])
def test_argument_names_are_read_from_a_docstrings_signature(doc, names):
    from convlab.checks.core import signature_args

    assert signature_args(doc) == names


def test_compare_uses_no_method_of_the_learners_object():
    class Liar:
        def __getattr__(self, name):
            raise AssertionError(f"the checker touched .{name}")

    assert "should be a torch.Tensor" in compare(Liar(), torch.zeros(2), torch.float32, "cpu").text


def test_feedback_renders_short_in_ipython():
    failure = CheckFailed("lesson01.corr2d, case 1 of 5 (X (5, 9)):\nwrong values")
    assert failure._render_traceback_() == ["CheckFailed: lesson01.corr2d, case 1 of 5 (X (5, 9)):", "wrong values"]


def test_feedback_wraps_whole_words_to_a_narrow_view():
    mistake = ("Likely mistake: kernel flipped - that is convolution; deep learning's 'convolution' "
               "slides K as it is (cross-correlation).")
    lines = CheckFailed(f"lesson01.corr2d, case 1 of 5 (X (5, 9)):\n{mistake}")._render_traceback_()
    assert all(len(line) <= 78 for line in lines) and len(lines) == 3
    assert " ".join(line.strip() for line in lines[1:]) == mistake


def test_a_failing_check_in_a_notebook_is_an_error_output_with_a_short_traceback():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch\nfrom convlab.checks import lesson01 as check\n"
                                  "def corr2d(X, K):\n"
                                  "    w = X.unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)\n"
                                  "    return torch.einsum('hwij,ij->hw', w, K.flip(0, 1))"),
        nbformat.v4.new_code_cell("check.corr2d(corr2d)"),
    ]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    outputs = nb.cells[1].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert len(errors) == 1, outputs
    assert errors[0].ename == "CheckFailed"
    assert "kernel flipped" in errors[0].evalue
    assert len(errors[0].traceback) <= 8 and "Traceback" not in "".join(errors[0].traceback)
    pictures = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(pictures) == 1 and outputs.index(pictures[0]) < outputs.index(errors[0]), \
        "a notebook shows the failing case's picture above the message"
    assert all(len(line) <= 78 for line in errors[0].traceback)
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]


def test_the_likely_mistake_is_found_from_the_problems_kind_not_its_words(monkeypatch):
    from convlab.checks import core
    from convlab.checks.problems import Kind, Problem

    original = core.compare

    def reworded(*args, **kwargs):
        problem = original(*args, **kwargs)
        return problem and Problem(problem.kind, "la sortie est fausse", problem.part)

    monkeypatch.setattr(core, "compare", reworded)
    message = failure_of(lesson01.corr2d, flipped)
    assert "la sortie est fausse" in message and "Likely mistake: kernel flipped" in message
    assert compare(torch.zeros(2), torch.ones(2), torch.float32, "cpu").kind is Kind.WRONG_VALUES
    assert compare(torch.zeros(2).double(), torch.ones(2), torch.float32, "cpu").kind is Kind.WRONG_DTYPE
    assert not compare([1], torch.ones(2), torch.float32, "cpu").diagnosable


def _learners_function(source: str, filename: str):
    """`source`'s last function, compiled as a notebook cell is (its lines in linecache)."""
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - a learner's cell, made up here
    return [v for v in namespace.values() if callable(v)][-1]


@pytest.mark.parametrize("filename", ["/tmp/ipykernel_7/4021.py", "<cell 3>"])
def test_an_exception_shows_the_learners_own_line_not_torchs(filename):
    from convlab.checks import lesson01

    fn = _learners_function("def corr2d(X, K):\n    kh, kw = K.shape\n    return X @ K\n", filename)
    with pytest.raises(CheckFailed) as caught:
        lesson01.corr2d(fn)
    message = str(caught.value)
    assert "raised RuntimeError" in message and "(your line 3: return X @ K)" in message, message
    assert "torch" not in message.split("your line")[1]


def test_an_exception_with_no_line_of_the_learners_names_none():
    from convlab.checks import lesson01
    from convlab.checks.diagnose import your_line

    with pytest.raises(CheckFailed) as caught:
        lesson01.corr2d(torch.matmul)  # raises inside torch: no line of the learner's
    assert "your line" not in str(caught.value)
    assert your_line(ValueError("made here, never raised")) == ""


def test_a_first_check_spares_the_learner_torch_dynamos_import():
    """A right answer runs on meta too; torch would import torch._dynamo there (0.6 s of a first check)."""
    import subprocess

    code = ("import sys, torch\nfrom convlab.checks import lesson01\n"
            "lesson01.corr2d(lambda X, K: torch.stack([torch.stack([(X[i:i + K.shape[0], j:j + K.shape[1]] * K).sum()"
            " for j in range(X.shape[1] - K.shape[1] + 1)]) for i in range(X.shape[0] - K.shape[0] + 1)]))\n"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout

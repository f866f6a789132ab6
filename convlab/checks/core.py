"""The check engine: random cases, torch references in float64, the learner's call under guard, feedback.

An exercise is an ``Exercise`` subclass with three parts that the in-kernel check and the
trusted re-verification (``autograder.grading.rejudge``) share: ``make_case`` draws one case's
inputs from a seeded generator (the engine loops over the cases), ``reference`` computes torch's
answer from float64 copies of them, and ``mistakes`` computes the answers of recognisable wrong
variants so feedback can name one.
"""
from __future__ import annotations

import ast
import contextlib
import io
import os
import sys
import textwrap
import warnings
import zlib
from dataclasses import dataclass, field
from functools import cached_property

import torch

from convlab.checks.compare import compare, describe_value
from convlab.checks.diagnose import banned_message, first_line, likely_mistakes, normalise_answer, your_line
from convlab.checks.guard import (
    KERNEL_OPS,
    DeviceMixing,
    disabled_kernel_hits,
    forbid_builtin_kernels,
    spare_dynamo_import,
)
from convlab.checks.problems import Kind, Problem
from convlab.checks.record import write_answer_record, write_record
from convlab.checks.references import ReferenceUsed, forbid_references, reference_message
from convlab.checks.show import show_failure
from convlab.checks.variants import pair
from convlab.i18n import N_, _, ngettext

_Tensor = torch.Tensor
_type = type
_detach = torch.Tensor.detach
_to = torch.Tensor.to
_clone = torch.Tensor.clone
_equal = torch.equal

MAX_CASES = 1000


#: The widest line a failing check shows in a notebook.
WIDTH = 78


class CheckFailed(AssertionError):
    """A learner's function gave a wrong answer; the message says which case and, if known, why."""

    def _render_traceback_(self):
        """What IPython shows instead of a long traceback (the cell still records an error output):
        the message in lines of at most WIDTH characters, so that a narrow view (nbgrader's
        Validate dialog, a feedback page) shows every word without scrolling."""
        lines = [f"CheckFailed: {line}" if i == 0 else line for i, line in enumerate(str(self).splitlines())]
        return [piece for line in lines for piece in textwrap.wrap(
            line, WIDTH, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False) or [""]]


@dataclass
class Case:
    """One call of the learner's function: positional and keyword arguments, and how to name it."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    description: str = ""

    @property
    def dtype(self) -> torch.dtype | None:
        """The floating dtype of the first floating tensor argument (the dtype under test)."""
        for value in (*self.args, *self.kwargs.values()):
            if isinstance(value, _Tensor) and value.is_floating_point():
                return value.dtype
        return None

    @property
    def has_tensors(self) -> bool:
        return any(isinstance(v, _Tensor) for v in (*self.args, *self.kwargs.values()))


#: (name, lowest, highest) of the conv2d parameters a case may draw.
CONV_PARAMETERS = (("stride", 1, 3), ("padding", 0, 2), ("dilation", 1, 3))


class Draw:
    """Random choices for case generation from one seeded ``torch.Generator``."""

    def __init__(self, seed: int, salt: str = ""):
        mixed = (int(seed) * 1_000_003 + zlib.crc32(salt.encode())) % (2**63)
        self.generator = torch.Generator().manual_seed(mixed)

    def int(self, low: int, high: int) -> int:
        """An int in [low, high], both included."""
        return int(torch.randint(low, high + 1, (1,), generator=self.generator))

    def choice(self, options):
        return options[self.int(0, len(options) - 1)]

    def bool(self) -> bool:
        return bool(self.int(0, 1))

    def randn(self, *shape: int, dtype=torch.float32) -> torch.Tensor:
        """Standard normal values (never a monotone range), drawn in float64 and cast to ``dtype``."""
        return torch.randn(shape, generator=self.generator, dtype=torch.float64).to(dtype)

    def dtype(self, i: int) -> torch.dtype:
        """float32 for most cases, float64 for every fourth, so both are always covered."""
        return torch.float64 if i % 4 == 3 else torch.float32

    def conv_case(self, i: int, parameters=("bias", "stride", "padding"), **fixed) -> Case:
        """Case ``i`` of a conv2d exercise: NCHW input and weight (C_out, C_in/groups, kh, kw), and
        of ``parameters`` those drawn for it (bias; stride, padding, dilation as an int or an (h, w)
        pair; groups). Each parameter shows in its own one of every four cases, and at random in
        the others. ``fixed`` sets a worked example's batch, in_channels, out_channels, size,
        kernel_size or parameters."""
        groups = fixed.get("groups") or (self.choice((1, 2, 3, 4)) if "groups" in parameters else 1)
        batch = fixed.get("batch") or self.int(1, 3)
        c_in = fixed.get("in_channels") or groups * self.int(1, 3)
        c_out = fixed.get("out_channels") or groups * self.int(1, 4)
        kh, kw = pair(fixed.get("kernel_size") or (self.int(1, 3), self.int(1, 3)))
        dtype = self.dtype(i)
        kwargs = {}
        if "bias" in parameters and fixed.get("bias", i % 2 == 0 or self.bool()):
            kwargs["bias"] = self.randn(c_out, dtype=dtype)
        elif "bias" in parameters and i % 3 == 0:
            kwargs["bias"] = None  # passed, as torch allows
        for turn, (name, low, high) in enumerate(CONV_PARAMETERS, start=1):
            if name in fixed:
                kwargs[name] = fixed[name]
            elif name in parameters and (i % 4 == turn or self.bool()):  # an int is never the default
                kwargs[name] = (self.int(low, high), self.int(low, high)) if self.bool() else self.int(low + 1, high)
        if groups != 1 or ("groups" in parameters and self.bool()):
            kwargs["groups"] = groups
        dh, dw = pair(kwargs.get("dilation", 1))
        h, w = pair(fixed.get("size") or (dh * (kh - 1) + 1 + self.int(0, 5), dw * (kw - 1) + 1 + self.int(0, 5)))
        return Case((self.randn(batch, c_in, h, w, dtype=dtype), self.randn(c_out, c_in // groups, kh, kw,
                                                                              dtype=dtype)), kwargs)


def describe(names, args, kwargs) -> str:
    """'input (2, 3, 7, 5), weight (4, 3, 3, 2), stride=(2, 1), padding=1'."""
    parts = []
    for i, value in enumerate(args):
        name = names[i] if i < len(names) else f"arg{i}"
        parts.append(f"{name} {tuple(value.shape)}" if isinstance(value, _Tensor) else f"{name}={value!r}")
    for key, value in kwargs.items():
        parts.append(f"{key} {tuple(value.shape)}" if isinstance(value, _Tensor) else f"{key}={value!r}")
    return ", ".join(parts)


def _map_tensors(value, fn):
    if isinstance(value, _Tensor):
        return fn(value)
    if isinstance(value, tuple):
        return tuple(_map_tensors(v, fn) for v in value)
    if isinstance(value, list):
        return [_map_tensors(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_tensors(v, fn) for k, v in value.items()}
    return value


def as_float64(value):
    """Floating tensors (nested in tuples/lists too) as float64 CPU copies; everything else unchanged."""
    return _map_tensors(value, lambda t: _to(_detach(t), "cpu", torch.float64) if t.is_floating_point()
                        else _clone(_to(_detach(t), "cpu")))


@contextlib.contextmanager
def no_tf32():
    """Full-precision float32 matmul and cuDNN convolution on CUDA, restored afterwards."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


@contextlib.contextmanager
def quiet():
    """Warnings and stderr of the code inside are captured, so nothing reaches a notebook's stderr."""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        yield caught


@dataclass
class Run:
    """What one call of the learner's function did, as the check and the record see it."""

    case_index: int
    device: str
    output: object = None          # the learner's output, tensors detached
    banned: list = field(default_factory=list)
    exception: str | None = None   # "TypeError: ..." (one line)
    not_answered: bool = False
    unanswered_in: str | None = None  # the learner's other function whose placeholder raised (the one called)
    modified_input: bool = False
    mixed_devices: bool = False    # on meta: an op met a tensor the function made on the CPU


def signature_args(doc: str | None) -> tuple | None:
    """The arguments without a default of the signature a docstring opens with ("corr2d(X, K): ..."
    gives ("X", "K")), so an exercise writes its signature once; None where it opens with none."""
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    start = text.find("(")
    if start < 1 or not text[:start].replace(".", "").replace("_", "").isalnum():
        return None
    depth = 0
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            break
    try:
        arguments = ast.parse(f"def f{text[start:end + 1]}: pass").body[0].args
    except SyntaxError:
        return None
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    return tuple(names[:len(names) - len(arguments.defaults)])


class Exercise:
    """Base of every check. Subclass, open its docstring with the learner's signature, write three
    methods, bind one instance in a lesson module.

    ``make_case(draw, i)`` returns case ``i`` (with ``example(i)``, the worked example declared in
    ``examples``, fixing what it sets); ``reference(*args, **kwargs)`` receives float64
    CPU copies of the case's tensors and returns torch's answer (a tensor, a tuple, or an int);
    ``mistakes(*args, **kwargs)`` yields ``(label, answer)`` for wrong variants worth naming.
    ``references`` names the course's own functions that compute the answer (see
    ``convlab.checks.references``); calling them from the learner's function earns nothing.
    """

    arg_names: tuple = ()  # where not given: the signature's arguments without defaults (`signature_args`)
    examples: tuple = ()  # the lesson's worked examples: case i's fixed values, as `example(i)` gives them
    default_cases = 5
    banned = KERNEL_OPS
    references: tuple = ()
    use_meta = True
    output_label = N_("output")  # what a wrong result is called in the feedback

    @cached_property
    def name(self) -> str:
        """'lessonNN.attribute': the module defining this exercise's class and the name its instance has
        there (``convlab.checks.registry`` holds a lesson to one instance per class). Records, feedback
        and the seeds' salt use it."""
        module = type(self).__module__
        for attribute, value in vars(sys.modules[module]).items():
            if type(value) is type(self):
                return f"{module.rsplit('.', 1)[-1]}.{attribute}"
        return type(self).__name__  # an exercise bound nowhere (a test's)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "arg_names" not in cls.__dict__:
            derived = signature_args(cls.__doc__)
            if derived is not None:
                cls.arg_names = derived

    # -- to write in a subclass -------------------------------------------------------------
    def make_case(self, draw: Draw, i: int) -> Case:
        """Case ``i``, drawn from ``draw`` (seeded: the same in the kernel and in the grader)."""
        raise NotImplementedError

    def example(self, i: int) -> dict:
        """Case ``i``'s worked example: the values ``examples`` fixes for it ({} past them)."""
        return dict(self.examples[i]) if i < len(self.examples) else {}

    def with_example(self, i: int, **drawn) -> tuple:
        """``drawn``'s values in their order, those case ``i``'s worked example fixes in their place
        (drawn all the same, so every other case draws what it would without the example)."""
        example = self.example(i)
        return tuple(example.get(name, value) for name, value in drawn.items())

    def reference(self, *args, **kwargs):
        raise NotImplementedError

    def mistakes(self, *args, **kwargs):
        return iter(())

    def prepare(self, fn):
        """What to call per case for the learner's ``fn`` (a check of a class wraps it here)."""
        if not callable(fn):
            raise CheckFailed(_("{name}: expected your function, got {got}. Pass the function itself, without "
                                "calling it.").format(name=self.name, got=describe_value(fn)))
        return fn

    # -- shared machinery -------------------------------------------------------------------
    def make_cases(self, draw: Draw, n: int) -> list[Case]:
        """The ``n`` cases, one ``make_case`` each, from one generator in order."""
        return [self.make_case(draw, i) for i in range(n)]

    def cases(self, seed: int = 0, cases: int | None = None) -> list[Case]:
        """The cases drawn for (seed, cases): the same list in the kernel and in the grader."""
        n = self.default_cases if cases is None else cases
        if _type(seed) is not int:
            raise ValueError(f"{self.name}: seed must be an int, got seed={seed!r}")
        if _type(n) is not int or not 1 <= n <= MAX_CASES:
            raise ValueError(f"{self.name}: cases must be an int in 1..{MAX_CASES}, got cases={cases!r}")
        drawn = list(self.make_cases(Draw(seed, self.name), n))[:n]
        for case in drawn:
            if not case.description:
                case.description = describe(self.arg_names, case.args, case.kwargs)
        return drawn

    def expected(self, case: Case):
        """torch's answer for ``case``, computed in float64 on the CPU with TF32 off."""
        args, kwargs = as_float64(case.args), as_float64(case.kwargs)
        with no_tf32(), quiet():
            return self.reference(*args, **kwargs)

    def devices(self, case: Case) -> list[str]:
        if not case.has_tensors:
            return ["cpu"]
        found = ["cpu"]
        if self.use_meta:
            found.append("meta")
        if torch.cuda.is_available():
            found.append("cuda")
        return found

    def call(self, fn, case: Case, index: int, device: str) -> Run:
        """Call ``fn`` on ``case`` moved to ``device``, inside the guard, with warnings captured."""
        args = _map_tensors(case.args, lambda t: _clone(_to(t, device)))
        kwargs = _map_tensors(case.kwargs, lambda t: _clone(_to(t, device)))
        run = Run(index, device)
        guard, watch = forbid_builtin_kernels(self.banned), forbid_references(self.references)
        if device == "meta":
            spare_dynamo_import()
        mixing = DeviceMixing() if device == "meta" else contextlib.nullcontext()
        hits = len(disabled_kernel_hits)
        try:
            with quiet(), watch, guard, mixing:
                out = fn(*args, **kwargs)
        except ReferenceUsed:
            pass
        except NotImplementedError as exc:
            # nbgrader's placeholder is a bare `raise NotImplementedError()`; torch's own carry a message
            # (on meta, torch refusing to read values).
            run.not_answered = device != "meta" and not str(exc)
            run.unanswered_in = _raised_in(exc, fn) if run.not_answered else None
            run.exception = first_line(exc) + your_line(exc)
        except Exception as exc:  # the learner's bug, reported as feedback, at their line
            run.exception = first_line(exc) + your_line(exc)
        else:
            try:
                run.output = _map_tensors(out, _detach)
            except Exception:  # an object posing as a tensor; compare() names what it really is
                run.output = out
        run.banned = list(dict.fromkeys([*watch.names, *guard.ops, *disabled_kernel_hits[hits:]]))
        run.mixed_devices = bool(getattr(mixing, "mixed", False))
        if device != "meta":
            before = (*case.args, *case.kwargs.values())
            after = (*args, *kwargs.values())
            run.modified_input = any(
                isinstance(b, _Tensor) and (a.shape != b.shape or not _equal(_to(a, "cpu"), b))
                for b, a in zip(before, after))
        return run

    def judge(self, run: Run, case: Case, ref, where: str | None = None) -> Problem | None:
        """Feedback for ``run`` (a few short lines), or None when it is right.

        ``where`` is the device the output must be on (default: the run's device).
        """
        problem = self.problem(run, case, ref, where)
        if problem is None or not problem.diagnosable:
            return problem
        return problem.hinted(self.diagnose(run, case, ref))

    def problem(self, run: Run, case: Case, ref, where: str | None = None) -> Problem | None:
        """What is wrong with ``run``, without the likely mistake; None when it is right."""
        if run.not_answered:
            if run.unanswered_in:
                return Problem(Kind.NOT_ANSWERED, _(UNANSWERED_CALLED).format(called=run.unanswered_in))
            return Problem(Kind.NOT_ANSWERED, _(UNANSWERED))
        if run.banned:
            name = run.banned[0]
            if name.startswith("aten."):
                return Problem(Kind.BANNED_KERNEL, banned_message(name))
            return Problem(Kind.BANNED, reference_message(name))
        if run.mixed_devices:
            return Problem(Kind.WRONG_DEVICE, _("wrong device: a tensor your function creates is not on the input's "
                                                "device.\nCreate new tensors on the input's device (device=input.device, "
                                                "or torch.zeros_like)."))
        if run.exception is not None:
            if run.device == "meta":
                return None  # code that reads values (.item(), .numpy()) cannot run on meta; CPU judges it
            return Problem(Kind.EXCEPTION, _("raised {exception}").format(exception=run.exception))
        if run.modified_input:
            return Problem(Kind.MODIFIED_INPUT, _("changed its input in place; compute a new tensor instead."))
        return self.judge_output(run, case, ref, where)

    def judge_output(self, run: Run, case: Case, ref, where: str | None = None) -> Problem | None:
        """What is wrong with the output of a run that returned (the checks every exercise shares ran
        before: not answered, a ban, an exception, a changed input); override to say more of it."""
        return compare(run.output, ref, case.dtype, where or run.device, values=run.device != "meta",
                       label=self.output_label)

    def diagnose(self, run: Run, case: Case, ref, everything: bool = False) -> list[str]:
        """Labels of the mistaken variants whose answers match the learner's output (best first).

        With ``everything``, the labels of the variants that do *not* match it instead.
        """
        args, kwargs = as_float64(case.args), as_float64(case.kwargs)
        variants = []
        try:
            with quiet():
                for variant in self.mistakes(*args, **kwargs):
                    variants.append(variant)
        except Exception:  # a variant torch rejects for this case ends the list; keep those before it
            pass
        output = _map_tensors(run.output, lambda t: _to(t, "cpu") if t.device.type != "meta" else t)
        matching = likely_mistakes(variants, output, ref, case.dtype, shape_only=run.device == "meta")
        if not everything:
            return matching
        return [label for label, wrong in variants if wrong is not None and label not in matching]

    def narrow(self, fn, drawn: list, failing: int, labels: list[str]) -> list[str]:
        """Several mistakes fit the failing case: keep those the learner's other answers agree with.

        A case the learner gets right refutes a mistake that would have shown there; a case
        the learner gets wrong refutes the mistakes it does not match.
        """
        for index, case in enumerate(drawn):
            if index == failing:
                continue
            run = self.call(fn, case, index, "cpu")
            ref = self.expected(case)
            problem = self.problem(run, case, ref)
            if problem is None:
                shown = self.diagnose(run, case, ref, everything=True)
                kept = [label for label in labels if label not in shown]
            elif problem.diagnosable:
                matching = self.diagnose(run, case, ref)
                kept = [label for label in labels if label in matching]
            else:
                continue
            if kept:
                labels = kept
            if len(labels) == 1:
                break
        return labels

    def run(self, fn, seed: int = 0, cases: int | None = None):
        """Every (case, device) run until the first failure: (runs, cases, feedback or None, and the
        failing (output, torch's) tensors when their values differ, for a picture)."""
        drawn = self.cases(seed, cases)
        runs: list[Run] = []
        for index, case in enumerate(drawn):
            ref = self.expected(case)
            for device in self.devices(case):
                run = self.call(fn, case, index, device)
                runs.append(run)
                problem = self.problem(run, case, ref)
                if problem is None:
                    continue
                if problem.diagnosable:
                    labels = self.diagnose(run, case, ref)
                    if len(labels) > 1:
                        labels = self.narrow(fn, drawn, index, labels)
                    problem = problem.hinted(labels)
                shown = (run.output, ref) if problem.kind is Kind.WRONG_VALUES and type(run.output) is _Tensor \
                    and type(ref) is _Tensor and run.output.shape == ref.shape else None
                return runs, drawn, self.header(index, len(drawn), case, device) + "\n" + problem.text, shown
        return runs, drawn, None, None

    def header(self, index: int, total: int, case: Case, device: str) -> str:
        where = [str(case.dtype).replace("torch.", "")] if case.dtype is not None else []
        if case.has_tensors:
            where.append(_("meta device (shapes only)") if device == "meta" else device)
        suffix = f"; {', '.join(where)}" if where else ""
        return _("{name}, case {index} of {total} ({case}):").format(
            name=self.name, index=index + 1, total=total, case=case.description + suffix)

    def __call__(self, fn, *, seed: int = 0, cases: int | None = None) -> None:
        __tracebackhide__ = True
        runs, drawn, failure, shown = self.run(self.prepare(fn), seed, cases)
        if os.environ.get("CONVLAB_RECORD_DIR"):
            write_record(self.name, seed, cases, runs, failure)
        if failure is not None:
            if shown is not None:
                show_failure(*shown, failure.splitlines()[0])
            raise CheckFailed(failure) from None
        print(passed_line(self.name, len(drawn), runs))


#: What a learner reads where an answer is not written yet (here, and wherever a notebook calls it).
UNANSWERED = N_("not answered yet: replace `raise NotImplementedError()` with your code.")

#: Where the unanswered placeholder is another exercise's function, which the checked one calls.
UNANSWERED_CALLED = N_("not answered yet where it is called: `{called}`, which this function calls, still raises "
                       "NotImplementedError — answer that exercise first.")


def _raised_in(exc: BaseException, fn) -> str | None:
    """The name of the function whose placeholder raised `exc`, where it is not `fn` itself (an earlier
    exercise's function that `fn` calls); None where `fn` raised it."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_name if tb is not None else None
    own = getattr(fn, "__name__", None)
    return name if name and name.isidentifier() and name not in (own, "<module>") else None


#: What a pass on each device checked, in words a learner reads at the end of the pass line.
CHECKED_ON = {"cpu": N_("values on the CPU"), "cuda": N_("values on the GPU (CUDA)"),
              "meta": N_("shapes and dtypes without computing (meta)")}


def passed_line(name: str, cases: int, runs: list) -> str:
    """'lesson01.corr2d: 5 cases passed — values on the CPU; shapes and dtypes without computing
    (meta)': a learner sees that the check ran, and what it checked where."""
    devices = list(dict.fromkeys(run.device for run in runs))
    # TRANSLATORS: between the devices a pass line names ("values on the CPU; shapes ... (meta)")
    where = f" — {_('; ').join(_(CHECKED_ON.get(d, d)) for d in devices)}" if devices else ""
    return ngettext("{name}: {cases} case passed", "{name}: {cases} cases passed", cases).format(
        name=name, cases=cases) + where


class NamedParts(Exercise):
    """An exercise answering a tuple whose feedback says which part is wrong (grad_weight, ...), not an index."""

    parts: tuple = ()

    def judge_output(self, run, case, ref, where=None):
        problem = super().judge_output(run, case, ref, where)
        if problem is None or not isinstance(ref, tuple) or not isinstance(run.output, (tuple, list)) \
                or len(run.output) != len(ref):
            return problem
        for name, out, want in zip(self.parts, run.output, ref):
            part = compare(out, want, case.dtype, where or run.device, values=run.device != "meta")
            if part is not None:
                return part.about(name)
        return problem


def answer(name: str, value, expected) -> None:
    """Check a 'check your understanding' answer; the message names the question, never the answer."""
    __tracebackhide__ = True
    got, want = normalise_answer(value), normalise_answer(expected)
    if os.environ.get("CONVLAB_RECORD_DIR"):
        write_answer_record(name, got, want)
    if value is None or value is Ellipsis:
        raise CheckFailed(_("{name}: not answered yet.").format(name=name)) from None
    if got is None:
        raise CheckFailed(_("{name}: answer with an int or a tuple of ints, got {got}.").format(
            name=name, got=describe_value(value))) from None
    if got != want:
        raise CheckFailed(_("{name}: not right yet — try again.").format(name=name)) from None
    print(_("{name}: right").format(name=name))

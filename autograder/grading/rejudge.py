"""Trusted judgement of check records, outside the learner's kernel (``convlab.checks.record`` writes them).

``verify_records(record_dir)`` regenerates each check's cases from (check, seed, cases), computes
torch's answers itself and judges the recorded outputs with its own code: whatever the kernel
patched (torch.allclose, numpy, convlab itself), wrong values cannot pass. It never unpickles,
refuses oversized or malformed files, and fails unknown checks. What it cannot see is how the
values were made: that is why the grader plans the calls itself (``planned``) and makes them in
its own run of the learner's code.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import convlab
from convlab import shapes
from convlab.checks import registry
from convlab.checks.core import Run
from convlab.checks.diagnose import normalise_answer
from convlab.checks.problems import Kind
from convlab.checks.questions import Question
from convlab.checks.record import ANSWER, FILE_NAME, FORMAT, answer_check
from convlab.i18n import _

MAX_JSON_BYTES = 2_000_000
MAX_NPZ_BYTES = 64_000_000
MAX_ARRAYS = 20_000
MAX_RECORDS = 5_000
_DTYPES = {str(d).replace("torch.", ""): d for d in (
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
    torch.int16, torch.int8, torch.uint8, torch.bool, torch.complex64, torch.complex128)}
_Tensor = torch.Tensor
_type = type


@dataclass
class Judgement:
    """The grader's judgement of one recorded check call."""

    check: str
    passed: bool
    message: str
    seed: int | None = None
    cases: int | None = None
    review: str | None = None  # why a person should look: what no honest answer does
    what: str | None = None  # what went wrong, for the class's tally: the likely mistake, else the problem's kind
    fingerprint: str | None = None  # the wrong output on the run's shared cases (`output_fingerprint`)


#: Review reasons a judgement can carry (autograder.grading.flags puts them in the gradebook).
CALLED_KERNEL = "called torch's own kernel while the grader ran it"
MALFORMED = "left malformed check results"


def _json_name(name: str):
    """The file name's (number, check) match for a record's JSON file, else None."""
    match = FILE_NAME.match(name)
    return match if match is not None and match.group(3) == "json" else None


class _Malformed(Exception):
    pass


def _load_arrays(path: Path) -> dict:
    """Arrays of a record's npz, refusing pickles, oversized or odd members."""
    if not path.exists():
        return {}
    if path.stat().st_size > MAX_NPZ_BYTES:
        raise _Malformed(f"{path.name} is larger than {MAX_NPZ_BYTES} bytes")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ARRAYS or sum(i.file_size for i in infos) > MAX_NPZ_BYTES:
                raise _Malformed(f"{path.name} holds too much data")
        arrays = {}
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                array = archive[key]
                if array.dtype.kind not in "biufc":
                    raise _Malformed(f"{path.name}: array {key} has dtype {array.dtype}")
                arrays[key] = array
        return arrays
    except _Malformed:
        raise
    except Exception as exc:  # a broken zip, a pickled object array, a truncated file
        raise _Malformed(f"{path.name} is not a plain npz file ({type(exc).__name__})") from None


def _decode(entry, arrays: dict, device: str):
    """Rebuild an output from its record as plain tensors made here; the recorded device is returned too."""
    if not isinstance(entry, dict) or len(entry) != 1:
        raise _Malformed("an output entry is not a one-key object")
    (kind, value), = entry.items()
    if kind == "int":
        if _type(value) is not int:
            raise _Malformed("an int output is not an int")
        return value
    if kind == "tuple":
        if not isinstance(value, list):
            raise _Malformed("a tuple output is not a list")
        return tuple(_decode(v, arrays, device) for v in value)
    if kind == "other":
        return _Other(str(value)[:100])
    if kind != "tensor" or not isinstance(value, dict):
        raise _Malformed(f"unknown output kind {kind!r}")
    return _decode_tensor(value, arrays, device)


def _decode_tensor(value: dict, arrays: dict, device: str):
    """A tensor output rebuilt here from its recorded dtype, shape and values (a stand-in where it
    was no plain tensor or was on another device)."""
    dtype = _DTYPES.get(value.get("dtype"))
    shape = value.get("shape")
    if dtype is None or not isinstance(shape, list) or not all(_type(s) is int and s >= 0 for s in shape):
        raise _Malformed("a tensor output has no valid dtype or shape")
    if value.get("type_ok") is not True:
        return _Other("a subclass of torch.Tensor")
    recorded_device = value.get("device")
    if recorded_device != device:
        return _WrongDevice(str(recorded_device)[:20])
    if device == "meta":
        if int(np.prod(shape, dtype=np.int64)) > 10**9:
            raise _Malformed("a meta output is implausibly large")
        return torch.empty(shape, dtype=dtype, device="meta")
    key = value.get("array")
    if not isinstance(key, str) or key not in arrays:
        raise _Malformed("a tensor output's values are missing from the npz file")
    array = arrays[key]
    if list(array.shape) != shape:
        raise _Malformed("a tensor output's values do not have its recorded shape")
    tensor = torch.from_numpy(np.array(array, copy=True))
    if tensor.dtype != dtype:
        if not (dtype == torch.bfloat16 and tensor.dtype == torch.float32):
            raise _Malformed("a tensor output's values do not have its recorded dtype")
        tensor = tensor.to(dtype)
    return tensor


class _Other:
    """A recorded output that was not a tensor or an int; compare() names its kind."""

    def __init__(self, text: str):
        self.text = text


class _WrongDevice:
    def __init__(self, device: str):
        self.device = device


def _find(value, kind):
    if isinstance(value, kind):
        return value
    if isinstance(value, tuple):
        for v in value:
            found = _find(v, kind)
            if found is not None:
                return found
    return None


def _case_and_device(entry, cases: int) -> tuple[int, str]:
    """The case index and device a recorded run names, checked."""
    if not isinstance(entry, dict):
        raise _Malformed("a run is not an object")
    index, device = entry.get("case"), entry.get("device")
    if _type(index) is not int or not 0 <= index < cases or device not in ("cpu", "meta", "cuda"):
        raise _Malformed("a run names no valid case or device")
    return index, device


def _run(entry: dict, index: int, device: str) -> Run:
    """One recorded run's flags, checked for their types (its output is decoded apart)."""
    banned = entry.get("banned")
    exception = entry.get("exception")
    if not isinstance(banned, list) or not all(isinstance(b, str) for b in banned):
        raise _Malformed("banned is not a list of names")
    if exception is not None and not isinstance(exception, str):
        raise _Malformed("exception is not text")
    exception = exception and " ".join(exception.split())[:300]  # one line, as core.first_line makes it
    called = entry.get("unanswered_in")
    called = called[:80] if isinstance(called, str) and called.isidentifier() else None  # a name, or nothing
    return Run(index, device, banned=[b[:80] for b in banned], exception=exception, unanswered_in=called,
               not_answered=entry.get("not_answered") is True, modified_input=entry.get("modified_input") is True,
               mixed_devices=entry.get("mixed_devices") is True)


def _not_a_tensor_here(output, device: str) -> tuple[Kind, str] | None:
    """(kind, message) where a decoded output holds a tensor of another device or no tensor at all."""
    wrong_device = _find(output, _WrongDevice)
    if wrong_device is not None:
        return Kind.WRONG_DEVICE, _("wrong device: output is on {got} for input on {device}.").format(
            got=wrong_device.device, device=device)
    other = _find(output, _Other)
    if other is not None:
        return Kind.WRONG_TYPE, _("output should be a torch.Tensor, got {got}.").format(got=other.text)
    return None


def _verify_one(document: dict, arrays: dict) -> Judgement:
    check, seed, cases = document.get("check"), document.get("seed"), document.get("cases")
    exercise = registry.find(check)
    if exercise is None:
        return Judgement(str(check)[:80], False, _("unknown check {name}").format(name=repr(str(check)[:80])))
    try:
        drawn = exercise.cases(seed, cases)
    except (ValueError, TypeError) as exc:
        return Judgement(check, False, _("malformed record: {why}").format(why=exc), review=MALFORMED)
    runs = document.get("runs")
    if not isinstance(runs, list):
        raise _Malformed("runs is not a list")
    expected = {}
    seen_cpu = set()
    for entry in runs:
        index, device = _case_and_device(entry, len(drawn))
        case = drawn[index]
        run = _run(entry, index, device)
        if run.exception is None and not run.banned and not run.mixed_devices:
            output = _decode(entry.get("output"), arrays, device)
            wrong = _not_a_tensor_here(output, device)
            if wrong is not None:
                return Judgement(check, False, exercise.header(index, len(drawn), case, device) + "\n" + wrong[1],
                                 seed, cases, what=wrong[0].value)
            run.output = output
        if index not in expected:
            expected[index] = exercise.expected(case)
        where = "meta" if device == "meta" else "cpu"  # cuda outputs were recorded as numpy arrays
        problem = exercise.judge(run, case, expected[index], where=where)
        if problem is not None:
            review = CALLED_KERNEL if problem.kind is Kind.BANNED_KERNEL else None
            return Judgement(check, False, exercise.header(index, len(drawn), case, device) + "\n" + problem.text,
                             seed, cases, review, problem.mistake or problem.kind.value,
                             output_fingerprint(index, device, run))
        if device == "cpu":
            seen_cpu.add(index)
    missing = [i + 1 for i in range(len(drawn)) if i not in seen_cpu]
    if missing:
        return Judgement(check, False, _("{name}: incomplete record, case {case} was not run on the cpu").format(
            name=check, case=missing[0]), seed, cases)
    return Judgement(check, True, _("{name}: all {cases} cases right").format(name=check, cases=len(drawn)), seed, cases)


def output_fingerprint(index: int, device: str, run: Run) -> str | None:
    """What a wrong run gave, as a short digest: the case, the device, and the output's values rounded
    to 4 significant digits. Two learners graded with the same seeds whose outputs share it made the
    same mistake, whatever their code looks like. None where the run gave no output to compare (it
    raised, was not answered, or called what it may not)."""
    parts = _flat_tensors(run.output)
    if run.exception is not None or run.banned or not parts:
        return None
    digest = hashlib.sha256(f"{index}|{device}|".encode())
    for part in parts:
        values = part.detach().to("cpu", torch.float64).numpy() if isinstance(part, _Tensor) else np.asarray(part)
        digest.update(str(values.shape).encode())
        if values.size and values.dtype.kind in "fciub":
            digest.update(np.array2string(values.astype(np.float64).ravel(), precision=4, threshold=10**9,
                                          floatmode="maxprec", separator=",").encode())
    return digest.hexdigest()[:16]


def _flat_tensors(value) -> list:
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat_tensors(item)]
    return [value] if isinstance(value, (_Tensor, int, float, np.ndarray)) else []


def _verify_answer(document: dict, answers: dict | None) -> Judgement:
    question = str(document.get("question", ""))[:200]
    value, expected = document.get("value"), document.get("expected")
    name = answer_check(question)
    if answers is not None and isinstance(answers.get(question), Question):  # the lesson's own question
        problem, slip = answers[question].verdict(value)
        short = answers[question].short
        said = _("{name}: {problem}.").format(name=short, problem=problem) if problem else _("{name}: right").format(
            name=short)
        return Judgement(name, problem is None, said, what=slip)
    if answers is not None and question in answers:
        expected = json.loads(json.dumps(normalise_answer(answers[question])))  # tuples as lists, like the record
    if value is None:
        return Judgement(name, False, _("{name}: not answered yet.").format(name=question))
    if json.dumps(value) != json.dumps(expected):
        return Judgement(name, False, _("{name}: not right yet.").format(name=question))
    return Judgement(name, True, _("{name}: right").format(name=question))


def trusted_namespace() -> dict:
    """What an instructor's expected-answer expression may use: ``torch`` (``nn``, ``F``), ``math`` and
    ``convlab.shapes`` (as ``shapes`` and by its names)."""
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "math": math,
                 "shapes": shapes, "convlab": convlab}
    namespace.update({name: getattr(shapes, name) for name in getattr(shapes, "__all__", ())})
    return namespace


def trusted_expected(expression: str, namespace: dict | None = None):
    """Evaluate the ``expected`` argument of an ``answer(...)`` call from the instructor's test source.

    The source is the instructor's, so evaluating it is safe; doing it here, outside the
    learner's kernel, means a patched ``answer`` cannot choose what counts as right.
    """
    namespace = trusted_namespace() if namespace is None else namespace
    return eval(compile(expression, "<expected>", "eval"), namespace)  # noqa: S307 - instructor source


def _document(path: Path) -> dict:
    """A record file's JSON object, bounded in size; _Malformed where it is not a convlab record."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise _Malformed(f"larger than {MAX_JSON_BYTES} bytes")
    try:
        document = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise _Malformed("not valid JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _Malformed("not a convlab record")
    return document


def verify_records(record_dir, answers: dict | None = None, planned: set | None = None,
                   seconds: float | None = None) -> dict[str, list[Judgement]]:
    """Judge every record in ``record_dir`` with trusted code: {cell id: [Judgement, ...]} in call order.

    ``answers`` ({question: expected}, e.g. from ``trusted_expected``) replaces the expected
    value an answer record carries from the kernel, which the kernel could have forged.
    ``planned`` ({(check, seed, cases)}) are the only calls worth judging: a record of any other
    is dropped before its cases are drawn. Past ``seconds`` the records left are not judged
    (a flood of records costs the grader bounded time).

    A record that cannot be read far enough to know its cell is listed under the cell id "".
    A cell with no record at all did not call its check: the caller should count that as failed.
    """
    directory = Path(record_dir)
    verdicts: dict[str, list[Judgement]] = {}
    def order(path: Path):
        match = _json_name(path.name)
        return (0, int(match.group(1)), path.name) if match else (1, 0, path.name)

    files = sorted(directory.glob("*.json"), key=order)[:MAX_RECORDS]
    deadline = None if seconds is None else time.monotonic() + seconds
    for path in files:
        if deadline is not None and time.monotonic() > deadline:
            verdicts.setdefault("", []).append(Judgement("", False, _("verification time limit reached")))
            break
        cell = ""
        match = _json_name(path.name)
        try:
            if match is None:
                raise _Malformed("unexpected file name")
            document = _document(path)
            cell = document.get("cell_id") if isinstance(document.get("cell_id"), str) else ""
            if document.get("check") == ANSWER and match.group(2) == ANSWER:
                verdict = _verify_answer(document, answers)
            elif document.get("check") != match.group(2):
                raise _Malformed("the file name and the check it records differ")
            elif planned is not None and (document.get("check"), document.get("seed"),
                                          document.get("cases")) not in planned:
                continue  # not a call the grader made: it can earn nothing, so it costs nothing
            else:
                verdict = _verify_one(document, _load_arrays(path.with_suffix(".npz")))
        except _Malformed as exc:
            name = match.group(2) if match else path.name[:80]
            verdict = Judgement(name, False, _("malformed record {file}: {why}").format(file=path.name, why=exc),
                                review=MALFORMED)
        except Exception as exc:  # never let one record stop the grading of the others
            name = match.group(2) if match else path.name[:80]
            verdict = Judgement(name, False, _("record {file} could not be verified ({error})").format(
                file=path.name, error=type(exc).__name__))
        verdicts.setdefault(cell, []).append(verdict)
    return verdicts

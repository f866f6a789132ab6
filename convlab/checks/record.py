"""Records of check calls, written inside the learner's kernel (the grader judges them in ``autograder.grading.rejudge``).

When ``CONVLAB_RECORD_DIR`` is set, every check call also writes ``<NNNN>-<check>.json`` (check,
seed, cases, ``CONVLAB_CELL_ID``, one entry per run) and ``<NNNN>-<check>.npz`` (the learner's
outputs as plain numpy arrays, saved without pickle). Nothing here is trusted: the kernel is the
learner's, so a record can only lose points when the grader re-judges it.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import torch

from convlab.checks.compare import as_int, describe_value

FORMAT = "convlab-record/1"
#: ``<NNNN>-<check>.json`` and its ``.npz``: the only names the grader reads back.
FILE_NAME = re.compile(r"^(\d{4,8})-([A-Za-z0-9_.]{1,120})\.(json|npz)$")
#: The check name of a 'check your understanding' answer record.
ANSWER = "answer"


def answer_check(question: str) -> str:
    """How a test cell's ``answer(question, ...)`` call and its verdict are named: 'answer:<question>'."""
    return f"{ANSWER}:{question}"


def question_of(check: str) -> str | None:
    """The question of an ``answer_check`` name, None for an exercise's check."""
    return check[len(ANSWER) + 1:] if check.startswith(f"{ANSWER}:") else None
_Tensor = torch.Tensor
_type = type


def _reserve(directory: Path, stem: str) -> tuple[int, Path]:
    """The next free ``<NNNN>-<stem>.json`` path, created empty so no other call takes it."""
    number = len(list(directory.glob("*.json"))) + 1
    while True:
        path = directory / f"{number:04d}-{stem}.json"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return number, path
        except FileExistsError:
            number += 1


def _encode(value, arrays: dict):
    """JSON for an output; tensor values go to ``arrays`` (numpy, no pickle)."""
    if _type(value) is _Tensor:
        entry = {"dtype": str(value.dtype).replace("torch.", ""), "device": value.device.type,
                 "shape": list(value.shape), "type_ok": True, "array": None}
        if value.device.type != "meta":
            cpu = value.detach().to("cpu")
            if cpu.dtype == torch.bfloat16:
                cpu = cpu.to(torch.float32)  # numpy has no bfloat16; float32 holds it exactly
            key = f"a{len(arrays)}"
            arrays[key] = np.ascontiguousarray(cpu.resolve_conj().resolve_neg().numpy())
            entry["array"] = key
        return {"tensor": entry}
    if isinstance(value, _Tensor):
        return {"other": f"a subclass of torch.Tensor ({_type(value).__name__})"}
    if _type(value) is int:
        return {"int": value}
    if isinstance(value, (tuple, list)) and _type(value) in (tuple, list):
        return {"tuple": [_encode(v, arrays) for v in value]}
    as_plain = as_int(value)
    if as_plain is not None:
        return {"int": as_plain}
    return {"other": describe_value(value)}


def _write(stem: str, document: dict, arrays: dict, number: int | None = None) -> Path:
    """Write a record: at the next free number, or at exactly `number` (the grader's run, whose
    reader takes each planned call's record from its own name), each file created anew."""
    directory = Path(os.environ["CONVLAB_RECORD_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    if number is None:
        _, path = _reserve(directory, stem)
        mode = "w"  # into the file _reserve made empty
    else:
        path, mode = directory / f"{number:04d}-{stem}.json", "x"
    if arrays:
        with open(path.with_suffix(".npz"), "xb") as handle:
            np.savez(handle, **arrays)
    with open(path, mode) as handle:
        handle.write(json.dumps(document))
    return path


def write_record(check: str, seed, cases, runs, feedback, number: int | None = None) -> Path:
    """Record one check call (the runs made until the first failure) for ``verify_records``."""
    arrays: dict = {}
    document = {
        "format": FORMAT, "check": check, "seed": seed, "cases": cases,
        "cell_id": os.environ.get("CONVLAB_CELL_ID", ""),
        "passed": feedback is None, "feedback": feedback,
        "runs": [{"case": r.case_index, "device": r.device, "exception": r.exception,
                  "not_answered": r.not_answered, "unanswered_in": r.unanswered_in, "banned": list(r.banned), "modified_input": r.modified_input,
                  "mixed_devices": r.mixed_devices,
                  "output": None if r.exception is not None else _encode(r.output, arrays)} for r in runs],
    }
    return _write(check, document, arrays, number)


def write_answer_record(question: str, value, expected, number: int | None = None) -> Path:
    """Record a 'check your understanding' answer (plain JSON: ints, floats, lists)."""
    document = {"format": FORMAT, "check": "answer", "question": str(question)[:200],
                "cell_id": os.environ.get("CONVLAB_CELL_ID", ""), "value": value, "expected": expected}
    return _write("answer", document, {}, number)


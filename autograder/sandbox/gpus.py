"""One GPU per sandbox: the host's GPUs handed out to the runs going on at once.

Every sandbox sees every GPU device (`/dev/nvidia*`); which one CUDA uses is `CUDA_VISIBLE_DEVICES`
in the run's environment. Each run leases the GPU fewest runs hold (`lease`), so W workers on N
GPUs use all N, one each while W <= N, and share them evenly beyond; with one GPU every worker
shares it. This spreads the work, it does not wall runs apart: code in a sandbox could reset the
variable and reach another GPU, as it can reach the one it was given.
"""
from __future__ import annotations

import contextlib
import glob
import os
import re
import threading

VARIABLE = "CUDA_VISIBLE_DEVICES"

_held: dict[str, int] = {}
_lock = threading.Lock()


def visible() -> list[str]:
    """The GPUs this process may hand out, by the ids CUDA takes: the host's `CUDA_VISIBLE_DEVICES`
    where it is set (a Dask worker pinned to its GPU), else one per `/dev/nvidiaN`."""
    given = os.environ.get(VARIABLE)
    if given is not None:
        return [d.strip() for d in given.split(",") if d.strip() and d.strip() != "-1"]
    return sorted((m.group(1) for path in glob.glob("/dev/nvidia*")
                   for m in [re.fullmatch(r"/dev/nvidia(\d+)", path)] if m), key=int)


def parse(text: str) -> tuple[str, ...]:
    """`--gpus LIST`: "0,2" (those ids), "all" (every visible GPU) or "none" (no run sees a GPU)."""
    text = text.strip()
    if text in ("all", "none"):
        return (text,)
    ids = tuple(d.strip() for d in text.split(","))
    if not all(re.fullmatch(r"\d+|GPU-[0-9a-fA-F-]+|MIG-[0-9a-fA-F/-]+", d) for d in ids):
        raise ValueError(f"gpus must be 'all', 'none' or a comma-separated list of GPU ids, got gpus={text!r}")
    return ids


def allowed(choice: tuple[str, ...]) -> list[str]:
    """The GPUs runs may be given under `choice` (`parse`'s result; () is "all")."""
    if choice in ((), ("all",)):
        return visible()
    return [] if choice == ("none",) else list(choice)


@contextlib.contextmanager
def lease(choice: tuple[str, ...] = ()):
    """The environment that gives one run one GPU of `allowed(choice)`, the one fewest runs hold now;
    `{VARIABLE: ""}` (no GPU) under "none"; `{}` where the host has none to give."""
    devices = allowed(choice)
    if not devices:
        yield {VARIABLE: ""} if choice == ("none",) else {}
        return
    with _lock:
        device = min(devices, key=lambda d: (_held.get(d, 0), devices.index(d)))
        _held[device] = _held.get(device, 0) + 1
    try:
        yield {VARIABLE: device}
    finally:
        with _lock:
            _held[device] -= 1


def plan(choice: tuple[str, ...], workers: int) -> str:
    """What grading does with the GPUs, in one line for the terminal and `convlab doctor`."""
    devices = allowed(choice)
    if not devices:
        return "no GPU: checks run on the CPU" if choice != ("none",) else "GPUs hidden (--gpus none)"
    if len(devices) == 1:
        return f"1 GPU ({devices[0]}), shared by {workers} worker(s)"
    share = "one each" if workers <= len(devices) else "shared evenly"
    return f"{len(devices)} GPUs ({', '.join(devices)}) for {workers} worker(s): {share} ({VARIABLE} per run)"

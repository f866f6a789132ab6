"""One unit of grading work: run a restored notebook in the sandbox and bring back plain data.

`run_job` is what a local worker thread or a Dask worker calls. It takes and returns only
strings, numbers and bytes (no pickled objects from the sandbox): the executed notebook as JSON
text, the runner's status as JSON text, and each check record file as bytes. The trusted
parent parses and verifies them.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile

from autograder import execute, sandbox, verify_run

# Where the runner may write records: `NNNN-<check>.json` / `.npz`.
RECORD_NAME = re.compile(r"^\d{1,8}-[A-Za-z0-9_.\-]{1,120}\.(json|npz)$")
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
MAX_STATUS_BYTES = 1024 * 1024
MAX_RECORD_BYTES = 32 * 1024 * 1024
MAX_TOTAL_RECORD_BYTES = 64 * 1024 * 1024  # what one submission may send back in all
WORKDIR_PREFIX = "convlab-grade-"
# Seconds the runner gets on top of the notebook's own time limit (kernel start, writing back).
GRACE_SECONDS = 30.0


def _read_regular(path: str, limit: int) -> bytes | None:
    """Bytes of a regular file no larger than `limit`; None for links, fifos and giants."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def remove_stale_workdirs() -> int:
    """Delete work dirs left by grading processes that were killed; returns how many."""
    removed = 0
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        match = re.fullmatch(re.escape(WORKDIR_PREFIX) + r"(\d+)-\w+", name)
        if match is None:
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # its process still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)
        removed += 1
    return removed


def sandbox_env(home: str = sandbox.SANDBOX_HOME) -> dict[str, str]:
    """Environment of the runner and the kernel, whose home (the work dir) is `home`."""
    return {
        "CONVLAB_RECORD_DIR": f"{home}/{execute.RECORD_DIR}",
        "CONVLAB_CELL_ID": "",
        "NBGRADER_EXECUTION": "autograde",  # what nbgrader sets while autograding: notebooks may skip demos
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "JUPYTER_DATA_DIR": "/tmp/jupyter-data",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "XDG_CACHE_HOME": "/tmp/cache",
        "JUPYTER_PLATFORM_DIRS": "1",
    }


def _write_files(workdir: str, files: dict[str, bytes]) -> None:
    """The files the learner submitted beside the notebook (paths already checked by the grader)."""
    for relative, data in files.items():
        path = os.path.join(workdir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _read_records(record_dir: str, count: int) -> dict[str, bytes]:
    """At most `count` record files (in name order), within the size limits; the rest count as never made."""
    records: dict[str, bytes] = {}
    if not os.path.isdir(record_dir) or os.path.islink(record_dir):
        return records
    names = sorted(n for n in os.listdir(record_dir) if RECORD_NAME.match(n))[:count]
    total = 0
    for name in names:
        data = _read_regular(os.path.join(record_dir, name), MAX_RECORD_BYTES)
        if data is not None:
            total += len(data)
            if total > MAX_TOTAL_RECORD_BYTES:
                break  # the records left out count as never made
            records[name] = data
    return records


def _sandboxed(module: str, workdir: str, job: dict) -> sandbox.SandboxResult:
    """Run `python -m module` in `workdir`: in the sandbox unless the job says `sandboxed: False`
    (`convlab grade --no-sandbox`); a worker that cannot sandbox raises SandboxUnavailable."""
    limits = sandbox.Limits(timeout=float(job["timeout"]) + GRACE_SECONDS, memory_mb=int(job["memory_mb"]))
    sandboxed = bool(job.get("sandboxed", True))
    python = os.path.abspath(sys.executable)
    return sandbox.run([python, "-m", module], workdir, limits=limits,
                       env=sandbox_env(sandbox.home(workdir, sandboxed)), sandboxed=sandboxed)


def _new_workdir(job: dict) -> str:
    workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
    _write_files(workdir, job.get("files") or {})
    os.mkdir(os.path.join(workdir, execute.RECORD_DIR))
    os.chmod(workdir, 0o700)
    return workdir


def _read_text(path: str, limit: int) -> str | None:
    data = _read_regular(path, limit)
    return data.decode("utf-8", errors="replace") if data is not None else None


def _how_it_ended(result: sandbox.SandboxResult) -> dict:
    return {"returncode": result.returncode, "timed_out": result.timed_out, "oom_killed": result.oom_killed,
            "disk_exceeded": result.disk_exceeded}


def run_notebook(job: dict) -> dict:
    """The notebook run: the executed notebook and the runner's status (for outputs and feedback only)."""
    import json

    workdir = _new_workdir(job)
    try:
        with open(os.path.join(workdir, execute.SUBMISSION), "w") as f:
            f.write(job["notebook"])
        with open(os.path.join(workdir, execute.JOB), "w") as f:
            json.dump({"timeout": float(job["timeout"])}, f)
        result = _sandboxed("autograder.execute", workdir, job)
        return {
            "executed": _read_text(os.path.join(workdir, execute.EXECUTED), MAX_NOTEBOOK_BYTES),
            "status": _read_text(os.path.join(workdir, execute.STATUS), MAX_STATUS_BYTES),
            "wall": result.wall,
            "stderr": result.stderr[-4000:],
            "sandboxed": result.sandboxed,
            **_how_it_ended(result),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_verification(job: dict) -> dict:
    """The verification run (`autograder.verify_run`): the records of the grader's own calls."""
    import json

    workdir = _new_workdir(job)
    try:
        with open(os.path.join(workdir, verify_run.JOB), "w") as f:
            json.dump(job["verify"], f)
        result = _sandboxed("autograder.verify_run", workdir, job)
        return {
            # A call leaves a .json and at most one .npz; an answer one .json.
            "records": _read_records(os.path.join(workdir, verify_run.RECORD_DIR),
                                     2 * len(job["verify"]["calls"]) + len(job["verify"]["answers"])),
            "status": _read_text(os.path.join(workdir, verify_run.STATUS), MAX_STATUS_BYTES),
            **_how_it_ended(result),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_job(job: dict) -> dict:
    """Run `job["notebook"]` (nbformat JSON text) sandboxed, then verify its functions in a fresh
    sandbox (`job["verify"]`, a `verification.Plan` job); return both outcomes as plain data.

    job keys: `key` (echoed back), `notebook`, `verify`, `files` (relative path -> bytes submitted
    beside the notebook), `timeout` (seconds for each run), `memory_mb`, `sandboxed` (default True).
    """
    outcome = run_notebook(job)
    outcome["key"] = job.get("key")
    outcome["verification"] = run_verification(job) if job.get("verify") else None
    return outcome

"""One unit of grading work: run a restored notebook in the sandbox and bring back plain data.

`run_job` is what a local worker thread or a Dask worker calls: a `protocol.Job` in, a
`protocol.Outcome` out, holding only strings, numbers and bytes from the sandbox (no pickled
objects): the executed notebook and the runner's status as JSON text, each check record file as
bytes. The trusted parent parses and verifies them.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile

from autograder import defaults, sandbox
from autograder.grading.protocol import Ended, Job, NotebookRun, Outcome, VerificationRun
from autograder.grading.review import NATIVE_SUFFIXES
from autograder.inside import files
from autograder.sandbox import gpus
from convlab import learner

MAX_NOTEBOOK_BYTES = defaults.EXECUTED_BYTES
MAX_STATUS_BYTES = defaults.STATUS_BYTES
MAX_RECORD_BYTES = defaults.RECORD_BYTES
MAX_TOTAL_RECORD_BYTES = defaults.RECORDS_BYTES  # what one submission may send back in all
WORKDIR_PREFIX = "convlab-grade-"
# Seconds the runner gets on top of the notebook's own time limit (kernel start, writing back).
GRACE_SECONDS = defaults.RUNNER_GRACE_SECONDS


def _read_regular(path: str, limit: int, head: bool = False) -> bytes | None:
    """Bytes of a regular file no larger than `limit` (its first `limit` bytes where `head`);
    None for links, fifos and giants."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (info.st_size > limit and not head):
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


def sandbox_env(home: str, lang: str | None = None) -> dict[str, str]:
    """Environment of the runner and the kernel, whose home (the work dir) is `home`."""
    # The lesson's language (`convlab grade`), else the one the caller chose (`convlab check`), else
    # none: the notebook's (`autograder.inside.execute`).
    lang = lang or os.environ.get("CONVLAB_LANG")
    return {
        files.RECORD_DIR_VARIABLE: f"{home}/{files.RECORD_DIR}",
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
        **({"CONVLAB_LANG": lang} if lang else {}),
    }


def _write_files(workdir: str, submitted: dict[str, bytes]) -> None:
    """The files the learner submitted beside the notebook (paths already checked by the grader)."""
    for relative, data in submitted.items():
        path = os.path.join(workdir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def _read_records(record_dir: str, names: list[str]) -> dict[str, bytes]:
    """The record files of `names` (the run's planned records, `files.record_names`) that
    exist, within the size limits; any other file there counts as never made."""
    records: dict[str, bytes] = {}
    if not os.path.isdir(record_dir) or os.path.islink(record_dir):
        return records
    total = 0
    for name in names:
        data = _read_regular(os.path.join(record_dir, name), MAX_RECORD_BYTES)
        if data is not None:
            total += len(data)
            if total > MAX_TOTAL_RECORD_BYTES:
                break  # the records left out count as never made
            records[name] = data
    return records


def _sandboxed(module: str, workdir: str, job: Job) -> sandbox.Result:
    """Run `python -m module` in `workdir` by the job's sandbox backend (`convlab grade --sandbox`);
    a worker whose host cannot run that backend raises SandboxUnavailable."""
    backend = sandbox.by_name(job.sandbox)
    limits = sandbox.Limits(timeout=float(job.timeout) + GRACE_SECONDS, memory_mb=int(job.memory_mb))
    python = os.path.abspath(sys.executable)
    # Isolated mode: neither the working directory (the submission's files) nor PYTHON* variables
    # decide what the runner imports, so no file beside a notebook stands in for a module of its own.
    with gpus.lease(job.gpus) as gpu:
        return backend.run([python, "-I", "-B", "-m", module], workdir, limits=limits,
                           env={**sandbox_env(backend.home(workdir), job.lang), **gpu, **_learner(job)})


def _learner(job: Job) -> dict[str, str]:
    """The learner's id for per-student questions; an empty one where the job has none, so a
    grader's own `JUPYTERHUB_USER` never stands in for the student."""
    return {learner.ENV: job.learner or ""}


@contextlib.contextmanager
def _workdir(job: Job, native: bool = True):
    """A private work dir holding the files submitted beside the notebook (without native code
    where `native` is False: the grader's run imports only what Python can review); removed afterwards."""
    workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-")
    try:
        submitted = job.files or {}
        _write_files(workdir, {k: v for k, v in submitted.items() if native or not k.endswith(NATIVE_SUFFIXES)})
        os.mkdir(os.path.join(workdir, files.RECORD_DIR))
        os.chmod(workdir, 0o700)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _read_text(path: str, limit: int, head: bool = False) -> str | None:
    data = _read_regular(path, limit, head)
    return data.decode("utf-8", errors="replace") if data is not None else None


def _ended(result: sandbox.Result) -> Ended:
    return Ended(result.returncode, result.timed_out, result.oom_killed, result.disk_exceeded)


def run_notebook(job: Job) -> NotebookRun:
    """The notebook run: the executed notebook and the runner's status (for outputs and feedback only)."""
    with _workdir(job) as workdir:
        with open(os.path.join(workdir, files.SUBMISSION), "w") as f:
            f.write(job.notebook)
        with open(os.path.join(workdir, files.JOB), "w") as f:
            json.dump({"timeout": float(job.timeout)}, f)
        result = _sandboxed("autograder.inside.execute", workdir, job)
        return NotebookRun(_read_text(os.path.join(workdir, files.EXECUTED), MAX_NOTEBOOK_BYTES),
                           _read_text(os.path.join(workdir, files.STATUS), MAX_STATUS_BYTES), _ended(result))


def run_verification(job: Job) -> VerificationRun:
    """The verification run (`autograder.inside.verify_run`): the records of the grader's own calls."""
    with _workdir(job, native=False) as workdir:
        with open(os.path.join(workdir, files.VERIFY_JOB), "w") as f:
            json.dump(job.verify, f)
        result = _sandboxed("autograder.inside.verify_run", workdir, job)
        # The trace is read from its start: a flood of lines cannot hide the first ones.
        return VerificationRun(_read_records(os.path.join(workdir, files.RECORD_DIR),
                                             files.record_names(job.verify)),
                               _read_text(os.path.join(workdir, files.VERIFY_STATUS), MAX_STATUS_BYTES),
                               _ended(result), _read_text(os.path.join(workdir, files.TRACE), MAX_STATUS_BYTES, head=True))


def run_job(job: Job, together: bool = False) -> Outcome:
    """Run `job.notebook` sandboxed, then the grader's own calls of its functions in a fresh
    sandbox (`job.verify`); what a local worker thread or a Dask worker calls. `together` runs the
    two at once, each in its own sandbox and work dir: one notebook checked alone (`convlab check`)
    has the cores to itself, where a class's grading already fills them with other notebooks."""
    if not (together and job.verify):
        notebook = run_notebook(job)
        return Outcome(job.key, notebook, run_verification(job) if job.verify else None)
    with cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="convlab-verify") as pool:
        verification = pool.submit(run_verification, job)
        try:
            notebook = run_notebook(job)
        except BaseException:  # Ctrl-C or an error: the other run must not be waited for, nor left running
            verification.cancel()
            sandbox.kill_all()
            raise
        return Outcome(job.key, notebook, verification.result())

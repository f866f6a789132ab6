"""What the grading stages hand each other: `Settings` → `Job` → `Outcome` → `Verdict`.

`plan` makes a `Job` per notebook, `run` turns it into an `Outcome` on a worker (plain data that
the sandbox produced, none of it trusted), `score` turns that into a `Verdict` in the grader,
`store` writes verdicts, `report` reads what was stored (see `autograder.grading.grade`).
"""
from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field

from autograder import defaults
from autograder.sandbox import BACKENDS, gpus


class Reason(str, enum.Enum):
    """Why a test cell scored what it did: what the instructor's report counts."""

    def __str__(self) -> str:
        return self.value

    PASSED = "passed"
    FAILED = "failed"  # the grader's own call of the learner's function failed
    ERROR = "error"  # the test cell raised in the notebook run
    NO_CHECK = "no_check"  # the test cell makes no call the grader can make
    NOT_RUN = "not_run"
    TIMEOUT = "timeout"
    KERNEL_DIED = "kernel_died"
    MEMORY = "memory"
    DISK = "disk"
    MISSING_NOTEBOOK = "missing_notebook"
    INVALID_NOTEBOOK = "invalid_notebook"
    WORKER_ERROR = "worker_error"


@dataclass(frozen=True)
class Settings:
    """A grading run's limits and choices, with their defaults; invalid values are refused here."""

    workers: int | None = None  # None: defaults.workers()
    scheduler: str | None = None  # a Dask scheduler address, or local worker threads
    timeout: float = defaults.TIMEOUT_SECONDS  # seconds one notebook run may take
    memory_mb: int = defaults.MEMORY_MB
    force: bool = False  # regrade what is already graded
    sandbox: str | None = None  # a backend of `autograder.sandbox` by name; None: the safest that runs here
    assignments: tuple[str, ...] = ()  # grade only these assignments' submissions; (): every one
    gpus: tuple[str, ...] = ()  # `sandbox.gpus.parse`: GPU ids runs are given one of; (): every visible one

    def __post_init__(self):
        workers = defaults.workers() if self.workers is None else self.workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an int of at least 1, got workers={self.workers!r}")
        object.__setattr__(self, "workers", workers)
        if not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise ValueError(f"timeout must be positive, got timeout={self.timeout!r}")
        if not isinstance(self.memory_mb, (int, float)) or not self.memory_mb >= 1:
            raise ValueError(f"memory_mb must be at least 1, got memory_mb={self.memory_mb!r}")
        object.__setattr__(self, "memory_mb", int(self.memory_mb))
        if isinstance(self.assignments, str) or not all(isinstance(a, str) and a for a in self.assignments):
            raise ValueError(f"assignments must be a sequence of names, got assignments={self.assignments!r}")
        object.__setattr__(self, "assignments", tuple(self.assignments))
        chosen = self.gpus if isinstance(self.gpus, str) else ",".join(map(str, self.gpus))
        object.__setattr__(self, "gpus", gpus.parse(chosen) if chosen else ())
        if self.sandbox is not None and self.sandbox not in BACKENDS:
            raise ValueError(f"sandbox must be one of {', '.join(BACKENDS)}, got sandbox={self.sandbox!r}")

    @property
    def verify_seconds(self) -> float:
        """What the grader's own run of the learner's functions may take."""
        return defaults.verify_seconds(self.timeout)


@dataclass
class Job:
    """One notebook to run: plain data, so it travels to a Dask worker as it is."""

    key: tuple[int, str]  # (submission index, notebook name), echoed back in the Outcome
    notebook: str  # nbformat JSON of the restored notebook without hidden tests
    verify: dict | None  # verification.CallPlan.as_job(): the grader's own calls
    files: dict[str, bytes]  # files submitted beside the notebook
    timeout: float
    memory_mb: int
    sandbox: str  # the backend that runs it, by name (`autograder.sandbox.BACKENDS`)
    lang: str | None = None  # the lesson's language, its checks' in both runs; None: the caller's (`convlab check`)
    gpus: tuple[str, ...] = ()  # each run leases one of these GPUs (`sandbox.gpus.lease`); (): the worker's visible ones
    learner: str | None = None  # the student id per-student questions draw from (`convlab.learner`)


@dataclass
class Ended:
    """How a sandboxed process ended, as the sandbox (not the process) saw it."""

    returncode: int | None = None
    timed_out: bool = False
    oom_killed: bool = False
    disk_exceeded: bool = False


@dataclass
class NotebookRun:
    """What the notebook run left: the executed notebook and the runner's status, as text."""

    executed: str | None = None
    status: str | None = None
    ended: Ended = field(default_factory=Ended)


@dataclass
class VerificationRun:
    """What the grader's own run of the learner's functions left: record files and a status."""

    records: dict[str, bytes] = field(default_factory=dict)
    status: str | None = None
    ended: Ended = field(default_factory=Ended)
    trace: str | None = None  # what the run's audit hook refused or saw (`autograder.inside.audit`)

    def reported(self) -> dict:
        """The runner's status file as a dict ({} when unreadable); the learner's code could have written it."""
        try:
            status = json.loads(self.status or "{}")
        except ValueError:
            return {}
        return status if isinstance(status, dict) else {}


@dataclass
class Outcome:
    """A job's two runs, as a worker brought them back; nothing in it is trusted."""

    key: tuple[int, str]
    notebook: NotebookRun
    verification: VerificationRun | None = None


@dataclass
class CellResult:
    """Outcome of one autograder-test cell."""

    grade_id: str
    points: float
    max_points: float
    passed: bool
    message: str  # what the learner reads: short, never the test's source
    reason: Reason = Reason.FAILED  # for the instructor
    review: list = field(default_factory=list)  # why a person should look (autograder.grading.flags); score unchanged
    mistake: str | None = None  # what the grader's calls found wrong: the likely mistake, else the problem's kind
    feedback: str | None = None  # `message` in the learner's language, where the lesson is not in English
    fingerprint: str | None = None  # the grader's digest of the wrong output (same seeds for the whole run)
    misses: list = field(default_factory=list)  # each call it missed, apart (`message` joins them)

    def as_dict(self) -> dict:
        return {**asdict(self), "reason": str(self.reason)}


@dataclass
class Verdict:
    """One notebook, scored: per test cell results, the graded notebook and the run's status."""

    results: list[CellResult]
    notebook: object  # the autograded notebook to write
    # The run as the grader states it (`score.run_status`): "status" (a STATUS_MESSAGES kind, or
    # a Reason for a notebook that never ran), "message", "executed", "errored", "failed_cell".
    status: dict = field(default_factory=lambda: {"status": "ok", "message": ""})
    comment: str | None = None  # for the learner and the instructor: what went wrong around the tests

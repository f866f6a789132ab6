"""Every file name that crosses the sandbox's wall, in one place.

The worker (host side) writes a job into the sandbox's home and reads back what a runner left
there; the runners (inside) read the job and write their results. Both sides take the names from
here, so they cannot drift apart. What comes back is the learner's: the grader reads only these
names, each bounded in size, and re-judges every value itself.
"""
from __future__ import annotations

#: The checks' record folder, in the sandbox's home (named to the kernel by `RECORD_DIR_VARIABLE`).
RECORD_DIR = "records"
#: The environment variable `convlab.checks.record` reads to find `RECORD_DIR`.
RECORD_DIR_VARIABLE = "CONVLAB_RECORD_DIR"

# The notebook run (`autograder.inside.execute`).
SUBMISSION = "submission.ipynb"  # in: the restored notebook, hidden tests removed
JOB = "job.json"  # in: the run's deadline and language
EXECUTED = "executed.ipynb"  # out: the notebook with its outputs
STATUS = "status.json"  # out: how the run went, cell by cell

# The grader's run (`autograder.inside.verify_run`).
VERIFY_JOB = "verify.json"  # in: the learner's cells and the grader's planned calls
VERIFY_STATUS = "verify-status.json"  # out: how the run went
TRACE = "trace.txt"  # out: what the audit hook saw (`autograder.inside.audit`)


def record_names(job: dict) -> list[str]:
    """The names of the records a grader's run of `job` writes under `RECORD_DIR`, in plan order:
    call i's JSON and arrays at number i + 1, then each answer's JSON. The worker reads back these
    and no other file."""
    names = []
    for number, call in enumerate(job["calls"], start=1):
        names += [f"{number:04d}-{call['check']}.json", f"{number:04d}-{call['check']}.npz"]
    first = len(job["calls"]) + 1
    return names + [f"{number:04d}-answer.json" for number in range(first, first + len(job["answers"]))]

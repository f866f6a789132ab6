"""The runner inside the sandbox: execute one restored submission with nbclient and leave the
executed notebook, a status file and the check records in the sandbox's home directory.

Run as `python -m autograder.inside.execute` with the working directory holding `submission.ipynb`
and `job.json`. Before each autograder-test cell the kernel's `CONVLAB_CELL_ID` is set (silently,
outside the history) to the cell's grade id and cleared after it, so every check record names
the test cell that made it. Nothing here is trusted by the grader: the parent reads the files
back as plain JSON and arrays and recomputes every verdict itself.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback

from autograder.inside.files import EXECUTED, JOB, STATUS, SUBMISSION
from autograder.interpreter import spare_slow_imports

PREPARE = "__import__('convlab.checks.guard', fromlist=['_']).spare_dynamo_import()"
MAX_OUTPUT_CHARS = 20_000  # per output; a learner should not scroll, the gradebook should not swell
MAX_FIGURE_CHARS = 2_000_000  # one image (base64): every figure of the lessons fits
MAX_FIGURES_CHARS = 16_000_000  # all images of one notebook together


def _client_class():
    from nbclient.util import ensure_async

    from autograder import cell_meta
    from autograder.inside.kernel_waits import SteadyNotebookClient

    class GradingClient(SteadyNotebookClient):
        """nbclient that tags check records with the running test cell and keeps a deadline."""

        deadline: float = float("inf")
        executed: list
        current: int | None = None

        prepared = False

        async def _silently(self, code: str) -> None:
            msg_id = await ensure_async(self.kc.execute(code, silent=True, store_history=False))
            await self.async_wait_for_reply(msg_id)

        async def _set_cell_id(self, value: str) -> None:
            await self._silently(f"__import__('os').environ['CONVLAB_CELL_ID'] = {value!r}")

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            if cell.cell_type != "code" or not cell.source.strip():
                return cell
            self.current = cell_index
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                from nbclient.exceptions import CellTimeoutError

                raise CellTimeoutError.error_from_timeout_and_cell("Notebook deadline passed", 0, cell)
            self.timeout = max(1, int(remaining))
            if not self.prepared:  # checks run on meta tensors: spare the kernel torch._dynamo's import
                self.prepared = True
                await self._silently(PREPARE)
            grade_id = cell_meta.grade_id(cell) if cell_meta.is_test_cell(cell) else None
            if grade_id is not None:
                await self._set_cell_id(grade_id)
            result = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            if grade_id is not None:
                await self._set_cell_id("")
            self.executed.append(cell_index)
            return result

    return GradingClient


def _limit_rich(data: dict, budget: int) -> int:
    """Drop rich data past its limit and return the figure budget left: a figure up to
    MAX_FIGURE_CHARS while the notebook's figures stay within the budget (a lesson's own plots
    survive, a flood of them does not); other rich data past 10 * MAX_OUTPUT_CHARS."""
    for mime in list(data):
        size = len(str(data[mime]))
        if mime.startswith("image/"):
            if size > MAX_FIGURE_CHARS or size > budget:
                del data[mime]
            else:
                budget -= size
        elif size > 10 * MAX_OUTPUT_CHARS:
            if mime.startswith("text"):
                data[mime] = "(output too large, removed)"
            else:
                del data[mime]
    return budget


def _limit_outputs(nb) -> None:
    """Truncate long text outputs and drop oversized rich data."""
    budget = MAX_FIGURES_CHARS
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_OUTPUT_CHARS:
                output["text"] = output["text"][:MAX_OUTPUT_CHARS] + "\n... (output truncated)\n"
            if isinstance(output.get("data"), dict):
                budget = _limit_rich(output["data"], budget)
            if output.get("output_type") == "error":
                output["traceback"] = [line[:MAX_OUTPUT_CHARS] for line in output.get("traceback", [])[-40:]]


def _not_dumpable() -> None:
    """Keep the kernel (this runner's child, same uid) from ptracing this process or reading its
    memory; the kernel's own execve makes it dumpable again."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def _speak_the_notebooks_language(nb) -> None:
    """The kernel's checks give their feedback in the notebook's language (`convlab.i18n`),
    unless the grader's environment chose one."""
    from convlab.i18n import ENV, declared

    os.environ.setdefault(ENV, declared(nb.metadata))


def main() -> int:
    _not_dumpable()
    spare_slow_imports()  # this runner starts once per submission
    import nbformat

    start = time.monotonic()
    with open(JOB) as f:
        job = json.load(f)
    status = {"status": "ok", "message": "", "executed": [], "errored": [], "failed_cell": None}
    nb = None
    try:
        nb = nbformat.read(SUBMISSION, as_version=4)
        _speak_the_notebooks_language(nb)
        client = _client_class()(
            nb, kernel_name="python3", allow_errors=True, record_timing=False,
            shutdown_kernel="immediate", startup_timeout=int(job.get("startup_timeout", 120)),
            resources={"metadata": {"path": os.getcwd()}},
        )
        client.deadline = start + float(job["timeout"])
        client.executed = status["executed"]
        # The execute_reply's status, not the outputs: a kernel can hide a traceback, not this.
        client.on_cell_error = lambda cell, cell_index, execute_reply: status["errored"].append(cell_index)
        try:
            client.execute()
        except Exception as exc:  # the reason is what the instructor reads
            from nbclient.exceptions import CellTimeoutError, DeadKernelError

            status["failed_cell"] = client.current
            if isinstance(exc, CellTimeoutError):
                status["status"], status["message"] = "timeout", (
                    f"time limit of {job['timeout']:g} s reached while running this cell")
            elif isinstance(exc, DeadKernelError):
                status["status"], status["message"] = "kernel_died", (
                    "the Python kernel died (exit, crash or memory limit) while running this cell")
            else:
                status["status"], status["message"] = "error", f"{type(exc).__name__}: {exc}"[:2000]
    except Exception as exc:
        status["status"], status["message"] = "error", f"{type(exc).__name__}: {exc}"[:2000]
        traceback.print_exc()
    if nb is not None:
        _limit_outputs(nb)
        nbformat.write(nb, EXECUTED + ".tmp")
        os.replace(EXECUTED + ".tmp", EXECUTED)
    with open(STATUS + ".tmp", "w") as f:
        json.dump(status, f)
    os.replace(STATUS + ".tmp", STATUS)
    return 0


if __name__ == "__main__":
    sys.exit(main())

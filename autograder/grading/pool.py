"""Where grading jobs run: local threads each driving one sandbox process, or a Dask cluster."""
from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator

from autograder import sandbox
from autograder.grading.protocol import Job, Outcome
from autograder.grading.worker import run_job


class _Pool:
    def __init__(self, workers: int, scheduler: str | None):
        self.client = None
        if scheduler:
            from distributed import Client  # an extra: only a course graded on a cluster needs it

            self.client = Client(scheduler, timeout=30)
        else:
            self.threads = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="convlab-grade")

    def submit(self, job: Job):
        if self.client is not None:
            return self.client.submit(run_job, job, pure=False)
        return self.threads.submit(run_job, job)

    def as_completed(self, futures):
        if self.client is not None:
            from distributed import as_completed

            return as_completed(futures)
        return cf.as_completed(futures)

    def close(self, cancel: bool = False) -> None:
        if self.client is not None:
            self.client.close()
        else:
            self.threads.shutdown(wait=not cancel, cancel_futures=cancel)


def run(jobs: list[Job], workers: int, scheduler: str | None = None
        ) -> Iterator[tuple[tuple, Outcome | None, BaseException | None]]:
    """(job key, outcome, None) per job as each finishes, or (key, None, the exception) when its
    worker failed (`sandbox.SandboxUnavailable`: the worker's host cannot sandbox). Stopping early
    (an exception, Ctrl-C) cancels what has not started and kills the local sandboxes."""
    if not jobs:
        return
    pool = _Pool(workers, scheduler)
    finished = False
    try:
        futures = {pool.submit(job): tuple(job.key) for job in jobs}
        for future in pool.as_completed(list(futures)):
            try:
                yield futures[future], future.result(), None
            except Exception as exc:  # the worker itself failed, not the student's code
                yield futures[future], None, exc
        finished = True
    finally:
        pool.close(cancel=not finished)
        if not finished:
            sandbox.kill_all()  # local sandboxes; Dask releases its tasks when the client closes

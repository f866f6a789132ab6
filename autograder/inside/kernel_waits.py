"""Notebook execution whose waits on the kernel cannot oversleep.

nbclient waits for a cell's reply with one `get_msg(timeout=<the whole cell timeout>)`. When the
socket's wake-up is missed (seen with ipykernel 7 and widget cells, nbclient issue #312), that
wait sleeps the whole timeout although the reply has arrived, then carries on as if nothing
happened; under `convlab grade` the lost minutes would count against the notebook's time limit.
Every new `get_msg` looks at the socket at once, so waiting in short slices bounds a missed
wake-up to one slice.
"""
from __future__ import annotations

import queue
import time

from nbclient import NotebookClient

SLICE_SECONDS = 0.5


def wait_in_slices(channel, slice_seconds: float = SLICE_SECONDS):
    """Make `channel.get_msg(timeout)` poll in slices of `slice_seconds`, keeping its timeout."""
    original = channel.get_msg

    async def get_msg(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await original(timeout=slice_seconds if left is None else min(slice_seconds, left))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg
    return channel


class SteadyNotebookClient(NotebookClient):
    """nbclient's NotebookClient with sliced waits on the shell and IOPub channels."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        wait_in_slices(kc.shell_channel)
        wait_in_slices(kc.iopub_channel)
        return kc

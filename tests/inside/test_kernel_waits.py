"""Sliced kernel waits: a reply whose wake-up was missed is still picked up within a slice."""
import asyncio
import queue
import time

import nbformat
import pytest

from autograder.inside.kernel_waits import SteadyNotebookClient, wait_in_slices

pytestmark = pytest.mark.grading


class MissedWakeUpChannel:
    """A channel whose message arrives at `arrival` but whose waits only notice it on a new call."""

    def __init__(self, arrival: float | None):
        self.arrival = None if arrival is None else time.monotonic() + arrival

    async def get_msg(self, timeout=None):
        if self.arrival is not None and time.monotonic() >= self.arrival:
            return {"msg": "reply"}
        await asyncio.sleep(timeout)  # the wake-up is missed: sleep the whole timeout
        if self.arrival is not None and time.monotonic() >= self.arrival:
            return {"msg": "reply"}
        raise queue.Empty


def test_a_missed_wake_up_costs_one_slice_not_the_whole_timeout():
    channel = wait_in_slices(MissedWakeUpChannel(arrival=0.3), slice_seconds=0.2)
    start = time.monotonic()
    assert asyncio.run(channel.get_msg(timeout=5)) == {"msg": "reply"}
    assert time.monotonic() - start < 1.5


def test_without_slices_the_same_wait_oversleeps():
    channel = MissedWakeUpChannel(arrival=0.3)
    start = time.monotonic()
    assert asyncio.run(channel.get_msg(timeout=2)) == {"msg": "reply"}
    assert time.monotonic() - start >= 2


def test_the_timeout_still_holds():
    channel = wait_in_slices(MissedWakeUpChannel(arrival=None), slice_seconds=0.2)
    start = time.monotonic()
    with pytest.raises(queue.Empty):
        asyncio.run(channel.get_msg(timeout=0.7))
    assert 0.6 < time.monotonic() - start < 1.5


def test_a_notebook_runs_with_the_steady_client():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    SteadyNotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"] == "42\n"

"""Time every solution notebook top to bottom in a fresh kernel (the course aims at 20 s each).

Usage: python benchmarks/bench_notebooks.py [NN_topic ...]
"""
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat

from autograder.inside.kernel_waits import SteadyNotebookClient as NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 20


def cell_seconds(cell) -> float:
    """Seconds nbclient recorded between a cell's start and its reply."""
    stamps = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in stamps or "shell.execute_reply" not in stamps:
        return 0.0
    start, end = (datetime.fromisoformat(stamps[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def run(path: Path) -> tuple[float, float, int]:
    """Wall seconds for the whole notebook (kernel start included), its slowest cell and that cell's index."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    slowest, index = max((cell_seconds(cell), i) for i, cell in enumerate(nb.cells))
    return wall, slowest, index


def main(names: list[str]) -> None:
    paths = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if names:
        paths = [p for p in paths if p.parent.name in names]
    print(f"{'notebook':<28}{'seconds':>9}{'slowest cell':>16}   target {TARGET_SECONDS} s")
    for path in paths:
        wall, slowest, index = run(path)
        flag = "" if wall <= TARGET_SECONDS else "  over target"
        print(f"{path.parent.name:<28}{wall:>9.1f}{f'{slowest:.1f} s (#{index})':>16}{flag}")


if __name__ == "__main__":
    main(sys.argv[1:])

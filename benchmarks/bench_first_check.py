"""How soon a learner's first check answers: in a fresh kernel, after the lesson's first cell
(its imports) has run, the seconds a test cell takes to say right or wrong; the median of several
fresh kernels, the first check and a second one side by side (the course aims at 0.5 s).

Usage: python benchmarks/bench_first_check.py [--kernels 5]
"""
import argparse
import statistics
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

LESSON = Path(__file__).resolve().parents[1] / "lessons/01_single_channel/01_single_channel.ipynb"
# The lesson's own first cell (its imports), then the import its test cells make.
SETUP = next(c.source for c in nbformat.read(str(LESSON), as_version=4).cells if c.cell_type == "code") \
    + "\nfrom convlab.checks import lesson01 as check"
RIGHT = '''
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=X.dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y
'''
WRONG = RIGHT.replace("* K)", "* K.flip(0, 1))")
CHECK = "try:\n    check.corr2d(corr2d)\nexcept Exception as error:\n    print(type(error).__name__)"
TARGET_SECONDS = 0.5


def _run(client, code: str) -> float:
    """Seconds from sending `code` to the kernel's reply."""
    start = time.perf_counter()
    reply = client.execute_interactive(code, timeout=300, output_hook=lambda message: None)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"the cell failed: {reply['content']}")
    return time.perf_counter() - start


def one_kernel(answer: str) -> tuple[float, float]:
    """(first check, second check) in a fresh kernel that has run the lesson's imports."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        _run(client, SETUP)
        _run(client, answer)
        return _run(client, CHECK), _run(client, CHECK)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=5)
    args = parser.parse_args(argv)
    for name, answer in (("right", RIGHT), ("wrong", WRONG)):
        runs = [one_kernel(answer) for _ in range(args.kernels)]
        first, second = (statistics.median(r[i] for r in runs) for i in (0, 1))
        spread = max(r[0] for r in runs) - min(r[0] for r in runs)
        verdict = "ok" if first <= TARGET_SECONDS else f"over the {TARGET_SECONDS} s aim"
        print(f"{name:5}  first check {first:.2f} s (spread {spread:.2f} s)  second {second:.2f} s  "
              f"median of {args.kernels} kernels  {verdict}", flush=True)


if __name__ == "__main__":
    main()

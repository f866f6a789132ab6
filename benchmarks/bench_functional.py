"""Benchmark: convlab.functional against torch.nn.functional on the same inputs, side by side.

Run as a script: ``python benchmarks/bench_functional.py [--device cuda] [--repeats 15] [--threads N]``.
Each case is warmed up, then timed alternately (convlab, torch, convlab, ...) so background load
hits both alike; the table reports medians (or, with ``--stat min``, the fastest run of each) and
the ratio convlab / torch. ``--stat paired`` reports the median of each repeat's own ratio, taken
between two adjacent runs: on a shared machine whose speed drifts this is the steadiest.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

import convlab.functional as CF

# (name, function name, input shape, weight shape or None, keyword arguments)
CASES = [
    ("conv2d 8x64x56x56 -> 64, 3x3 pad 1", "conv2d", (8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}),
    ("conv2d 32x3x32x32 -> 16, 3x3", "conv2d", (32, 3, 32, 32), (16, 3, 3, 3), {}),
    ("conv2d 1x256x14x14 -> 256, 3x3 pad 1", "conv2d", (1, 256, 14, 14), (256, 256, 3, 3), {"padding": 1}),
    ("conv2d depthwise 8x128x28x28, 3x3 pad 1", "conv2d", (8, 128, 28, 28), (128, 1, 3, 3),
     {"padding": 1, "groups": 128}),
    ("conv2d 8x64x56x56 -> 128, 3x3 stride 2", "conv2d", (8, 64, 56, 56), (128, 64, 3, 3),
     {"stride": 2, "padding": 1}),
    ("conv2d grouped 8x64x28x28 -> 64, 3x3 pad 1 g=4", "conv2d", (8, 64, 28, 28), (64, 16, 3, 3),
     {"padding": 1, "groups": 4}),
    ("conv2d dilated 4x32x64x64 -> 32, 3x3 pad 2 d=2", "conv2d", (4, 32, 64, 64), (32, 32, 3, 3),
     {"padding": 2, "dilation": 2}),
    ("conv_transpose2d 8x64x28x28 -> 32, 4x4 s2 p1", "conv_transpose2d", (8, 64, 28, 28), (64, 32, 4, 4),
     {"stride": 2, "padding": 1}),
    ("conv1d 16x64x1000 -> 64, k5 pad 2", "conv1d", (16, 64, 1000), (64, 64, 5), {"padding": 2}),
    ("conv3d 4x16x16x32x32 -> 32, 3x3x3 pad 1", "conv3d", (4, 16, 16, 32, 32), (32, 16, 3, 3, 3), {"padding": 1}),
    ("unfold 8x64x56x56, 3x3 pad 1", "unfold", (8, 64, 56, 56), None, {"kernel_size": 3, "padding": 1}),
    ("max_pool2d 8x64x112x112, 2x2", "max_pool2d", (8, 64, 112, 112), None, {"kernel_size": 2}),
    ("avg_pool2d 8x64x112x112, 2x2", "avg_pool2d", (8, 64, 112, 112), None, {"kernel_size": 2}),
]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def run(device: torch.device, dtype: torch.dtype, repeats: int, warmup: int) -> list[tuple[str, list, list]]:
    """Seconds of every repeat (convlab, torch) per case; cases whose convlab op does not exist yet are
    skipped."""
    rows = []
    generator = torch.Generator().manual_seed(0)
    for name, op, input_shape, weight_shape, kwargs in CASES:
        ours = getattr(CF, op, None)
        if ours is None:
            print(f"skipped {name}: convlab.functional.{op} is not there yet")
            continue
        theirs = getattr(F, op)
        x = torch.randn(input_shape, generator=generator, dtype=dtype).to(device)
        args = (x,) if weight_shape is None else (x, torch.randn(weight_shape, generator=generator,
                                                                 dtype=dtype).to(device))
        with torch.no_grad():
            for _ in range(warmup):
                ours(*args, **kwargs)
                theirs(*args, **kwargs)
            times_ours, times_theirs = [], []
            for _ in range(repeats):
                times_ours.append(_time(lambda: ours(*args, **kwargs), device))
                times_theirs.append(_time(lambda: theirs(*args, **kwargs), device))
        rows.append((name, times_ours, times_theirs))
    return rows


def summary(times_ours: list, times_theirs: list, stat: str) -> tuple[float, float, float]:
    """(convlab seconds, torch seconds, ratio) of one case's repeats under ``stat``."""
    if stat == "paired":
        ratio = statistics.median(a / b for a, b in zip(times_ours, times_theirs))
        return statistics.median(times_ours), statistics.median(times_theirs), ratio
    pick = statistics.median if stat == "median" else min
    ours, theirs = pick(times_ours), pick(times_theirs)
    return ours, theirs, ours / theirs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--stat", default="median", choices=["median", "min", "paired"],
                        help="summary of the repeated timings (paired: median of per-repeat ratios, "
                             "steadiest on a busy machine)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for both libraries (default: leave torch's default)")
    options = parser.parse_args(argv)
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    device = torch.device(options.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            parser.error("--device cuda: no CUDA device is available")
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    rows = [(name, *summary(ours, theirs, options.stat))
            for name, ours, theirs in run(device, getattr(torch, options.dtype), options.repeats, options.warmup)]
    print(f"device={device} dtype={options.dtype} threads={torch.get_num_threads()} repeats={options.repeats} "
          f"stat={options.stat}")
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'convlab ms':>10}  {'torch ms':>9}  {'ratio':>6}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:<{width}}  {ours * 1e3:>10.3f}  {theirs * 1e3:>9.3f}  {ratio:>6.2f}")
    ratios = {name: ratio for name, _, _, ratio in rows}
    worst = max(ratios, key=ratios.get)
    print(f"median ratio {statistics.median(ratios.values()):.2f}, worst ratio {ratios[worst]:.2f} ({worst})")


if __name__ == "__main__":
    main()

"""The kernel benchmark runs and summarises its timings as it says (on tiny cases: no timing is judged)."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench_functional():
    spec = importlib.util.spec_from_file_location("bench_functional", ROOT / "benchmarks" / "bench_functional.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_paired_ratio_is_the_median_of_each_repeats_own_ratio(bench_functional):
    ours, theirs = [2.0, 9.0, 3.0], [1.0, 3.0, 1.0]  # ratios 2, 3, 3; the medians' ratio would be 3/1
    assert bench_functional.summary(ours, theirs, "paired") == (3.0, 1.0, 3.0)
    assert bench_functional.summary(ours, theirs, "min") == (2.0, 1.0, 2.0)
    assert bench_functional.summary(ours, theirs, "median") == (3.0, 1.0, 3.0)


@pytest.mark.parametrize("stat", ["median", "min", "paired"])
def test_benchmark_prints_every_case_and_the_summary(bench_functional, monkeypatch, capsys, stat):
    monkeypatch.setattr(bench_functional, "CASES", [
        ("tiny conv2d", "conv2d", (1, 2, 6, 6), (3, 2, 3, 3), {"padding": 1}),
        ("tiny max_pool2d", "max_pool2d", (1, 2, 6, 6), None, {"kernel_size": 2}),
    ])
    bench_functional.main(["--repeats", "2", "--warmup", "1", "--stat", stat])
    out = capsys.readouterr().out
    assert f"stat={stat}" in out
    assert "tiny conv2d" in out and "tiny max_pool2d" in out
    assert "median ratio" in out and "worst ratio" in out


def test_the_first_check_benchmark_times_a_right_and_a_wrong_answer_in_a_fresh_kernel(capsys):
    spec = importlib.util.spec_from_file_location("bench_first_check", ROOT / "benchmarks" / "bench_first_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--kernels", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["right", "wrong"]
    assert all("first check" in line and "median of 1 kernels" in line for line in lines)

"""A submission that floods its output, its records or the disk costs only its own points: the
grading process's peak memory stays within 256 MB of an honest class's, and the honest students
of the same run keep their grades."""
import subprocess
import sys

import coursekit as ck
import pytest

from autograder.sandbox import bubblewrap as sandbox

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]

FULL = {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
STDOUT_FLOOD = """
import os
block = b"x" * (1 << 20)
for _ in range(1024):
    os.write(1, block)
"""
RECORD_FLOOD = """
import json, os
where = os.environ.get("CONVLAB_RECORD_DIR", "records")
os.makedirs(where, exist_ok=True)
for i in range(120):
    with open(os.path.join(where, f"{i:04d}-lesson01.corr2d.json"), "w") as f:
        json.dump({"format": 1, "check": "lesson01.corr2d", "seed": i, "cases": 10**6, "pad": "x" * 2_000_000}, f)
"""
DISK_FILLER = """
block = b"x" * (64 << 20)
for i in range(24):
    with open(f"filler{i}", "wb") as f:
        f.write(block)
"""
# Prints the grading process's own peak resident memory (KiB) when `convlab grade` is done.
PEAK = ("import resource, sys\nfrom autograder.cli import main\ncode = main(sys.argv[1:])\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)\nsys.exit(code)\n")


def grade_peak_mb(course) -> float:
    result = subprocess.run([sys.executable, "-c", PEAK, "grade", str(course), "--workers", "2", "--timeout", "60"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split("PEAK")[-1].split()[0]) / 1024


def make_class(where, hostile: dict[str, str]):
    course = ck.make_course(where)
    answers = ck.solution_answers(course)
    for student in ("ana", "ben"):
        ck.write_submission(course, student, answers)
    for student, extra in hostile.items():
        ck.write_submission(course, student, {**answers, "corr2d": answers["corr2d"] + "\n" + extra})
    return course


def test_floods_cost_the_grader_little_memory_and_others_nothing(tmp_path):
    honest = make_class(tmp_path / "honest", {})
    hostile = make_class(tmp_path / "hostile", {"stdout_flood": STDOUT_FLOOD, "record_flood": RECORD_FLOOD,
                                                "disk_filler": DISK_FILLER})
    baseline, flooded = grade_peak_mb(honest), grade_peak_mb(hostile)
    assert flooded - baseline < 256, f"peak {flooded:.0f} MB with the floods, {baseline:.0f} MB without"
    for course in (honest, hostile):
        assert ck.scores(course, "ana") == FULL and ck.scores(course, "ben") == FULL
    report = (hostile / "grading-report.md").read_text()
    assert "| disk |" in report, "the disk filler's reason is recorded"
    print(f"grading process peak: {baseline:.0f} MB honest class, {flooded:.0f} MB with the floods")

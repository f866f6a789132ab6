"""Every default and limit of grading, in one home.

The CLI's options and help, `Settings`, the sandbox's `Limits`, `convlab doctor` and the table in
both READMEs read their values here (`convlab build` writes the tables; a test holds them equal),
so a limit changed here is changed everywhere, and nowhere else can disagree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

TIMEOUT_SECONDS = 300.0  # wall time of one notebook's run
MEMORY_MB = 2048  # RLIMIT_DATA of each process (RLIMIT_AS would break CUDA's address space)
CPU_GRACE_SECONDS = 30  # RLIMIT_CPU of each process is the wall time plus this
RUNNER_GRACE_SECONDS = 30.0  # the sandbox outlives the runner's own deadline by this, so the runner says why it stopped
NPROC = 256  # processes and threads of one sandbox
NOFILE = 1024  # open files of each process
FSIZE_MB = 512  # largest file a process may write
DISK_MB = 512  # the work dir in all; the run is stopped past it
TMP_MB = 256  # each of /tmp and /dev/shm (memory-backed)
OUTPUT_BYTES = 64 * 1024  # of stdout and of stderr kept (the tail)
CGROUP_HEADROOM_MB = 1024  # a sandbox's memory cgroup: the process limit, /tmp and /dev/shm, and this
CPU_CORES = 1  # the most CPU one sandbox may use (cgroup quota), at an equal weight
NBGRADER_CELL_SECONDS = 300  # one cell under plain `nbgrader autograde` (convlab's config), then it scores 0
VERIFY_MIN_SECONDS = 5.0  # the grader's run may take a third of the wall time, and at least this
SUBMISSION_BYTES = 64 * 2**20  # a submitted notebook larger than this scores 0
SUBMISSION_CELLS = 2_000  # a submitted notebook with more cells scores 0
FILES_BESIDE = 50  # files submitted beside a notebook that are taken (the rest count as never submitted)
FILES_BESIDE_BYTES = 16 * 2**20  # their size in all
FOLDER_DEPTH = 8  # folders below a notebook's that are read; deeper ones count as never submitted
EXECUTED_BYTES = 64 * 2**20  # an executed notebook read back
STATUS_BYTES = 2**20  # a runner's status file read back
RECORD_BYTES = 32 * 2**20  # one record read back
RECORDS_BYTES = 64 * 2**20  # all records of one submission read back


def cores() -> int:
    """The cores this process may use."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers() -> int:
    """One more than the cores this process may use: each notebook's two runs wait on kernel start
    and process exits part of the time (on 2 cores, 3 workers grade in 3.0 s per submission, 2 in 3.6)."""
    return cores() + 1


def verify_seconds(timeout: float) -> float:
    """What the grader's own run of the learner's functions may take."""
    return max(VERIFY_MIN_SECONDS, float(timeout) / 3)


@dataclass(frozen=True)
class Row:
    """One line of the READMEs' table of limits, in English and in Chinese."""

    what: str
    value: str
    what_zh: str
    value_zh: str
    option: str = ""


def rows() -> list[Row]:
    """The table of limits, as both READMEs show it."""
    mib = 2**20
    return [
        Row("workers", "cores + 1", "并行数", "核数 + 1", "`--workers N`"),
        Row("wall time per notebook", f"{TIMEOUT_SECONDS:g} s", "每个 notebook 的墙钟时间", f"{TIMEOUT_SECONDS:g} 秒",
            "`--timeout S`"),
        Row("the grader's run of the learner's functions", f"a third of that, at least {VERIFY_MIN_SECONDS:g} s",
            "评分器调用学习者函数的运行", f"上一项的三分之一，至少 {VERIFY_MIN_SECONDS:g} 秒"),
        Row("memory per process", f"{MEMORY_MB} MB", "每个进程的内存", f"{MEMORY_MB} MB", "`--memory-mb MB`"),
        Row("memory of a notebook's processes together (cgroup)",
            f"that + 2 × {TMP_MB} MB + {CGROUP_HEADROOM_MB} MB", "一个 notebook 全部进程的内存（cgroup）",
            f"上一项 + 2 × {TMP_MB} MB + {CGROUP_HEADROOM_MB} MB"),
        Row("CPU", f"at most {CPU_CORES} core, at an equal share", "CPU", f"至多 {CPU_CORES} 核，份额相同"),
        Row("CPU time per process", f"wall time + {CPU_GRACE_SECONDS} s", "每个进程的 CPU 时间",
            f"墙钟时间 + {CPU_GRACE_SECONDS} 秒"),
        Row("processes and threads", str(NPROC), "进程与线程", str(NPROC)),
        Row("open files per process", str(NOFILE), "每个进程打开的文件", str(NOFILE)),
        Row("largest file written", f"{FSIZE_MB} MB", "可写的最大文件", f"{FSIZE_MB} MB"),
        Row("work dir in all", f"{DISK_MB} MB", "工作目录合计", f"{DISK_MB} MB"),
        Row("`/tmp` and `/dev/shm`, each", f"{TMP_MB} MB", "`/tmp` 与 `/dev/shm` 各", f"{TMP_MB} MB"),
        Row("output kept", f"last {OUTPUT_BYTES // 1024} KiB of stdout and of stderr", "保留的输出",
            f"stdout 与 stderr 各最后 {OUTPUT_BYTES // 1024} KiB"),
        Row("submitted notebook", f"{SUBMISSION_BYTES // mib} MiB, {SUBMISSION_CELLS} cells", "提交的 notebook",
            f"{SUBMISSION_BYTES // mib} MiB，{SUBMISSION_CELLS} 个单元格"),
        Row("files beside a notebook", f"{FILES_BESIDE} files, {FILES_BESIDE_BYTES // mib} MiB in all, "
            f"{FOLDER_DEPTH} folders deep", "提交在 notebook 旁的文件",
            f"{FILES_BESIDE} 个文件，合计 {FILES_BESIDE_BYTES // mib} MiB，最多 {FOLDER_DEPTH} 层目录"),
        Row("a cell under plain `nbgrader autograde`", f"{NBGRADER_CELL_SECONDS} s", "普通 `nbgrader autograde` 下的一个单元格",
            f"{NBGRADER_CELL_SECONDS} 秒"),
        Row("records read back", f"{RECORD_BYTES // mib} MiB each, {RECORDS_BYTES // mib} MiB in all", "读回的记录",
            f"每条 {RECORD_BYTES // mib} MiB，合计 {RECORDS_BYTES // mib} MiB"),
    ]


def table(lang: str = "en") -> str:
    """The READMEs' table of limits, in Markdown."""
    if lang == "en":
        lines = ["| limit | default | option |", "|---|---|---|"]
        lines += [f"| {row.what} | {row.value} | {row.option} |" for row in rows()]
    else:
        lines = ["| 限制 | 默认值 | 选项 |", "|---|---|---|"]
        lines += [f"| {row.what_zh} | {row.value_zh} | {row.option} |" for row in rows()]
    return "\n".join(lines)

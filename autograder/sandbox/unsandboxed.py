"""The backend without a wall (`--sandbox none`, `--no-sandbox`): the command runs as plain
nbgrader would run it, with the caller's rights, files and network, bounded only by the rlimits,
the wall time and the output and disk bounds every backend gets. Never chosen by default: the
grader asks for it by name and says so on the terminal and at the top of the report."""
from __future__ import annotations

import os

from autograder.sandbox import process
from autograder.sandbox.limits import Limits, Result

NAME = "none"


class Unsandboxed:
    name = NAME
    isolates = False

    def probe(self) -> str | None:
        return None

    def home(self, workdir: str) -> str:
        return os.path.abspath(workdir)

    def run(self, argv: list[str], workdir: str, *, limits: Limits = Limits(), env: dict[str, str] | None = None
            ) -> Result:
        run_env = {**os.environ, **process.base_env(self.home(workdir)), **(env or {})}
        return process.run(list(argv), cwd=workdir, env=run_env, workdir=workdir, limits=limits, backend=NAME,
                           isolated=False)

    def kill_all(self) -> None:
        process.kill_all()


UNSANDBOXED = Unsandboxed()

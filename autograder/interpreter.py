"""The interpreter the `convlab` command runs on: made the one every tool it starts runs on, and
spared the imports it never uses."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def put_environment_on_path() -> None:
    """nbgrader runs `alembic` (and Jupyter runs kernels) from PATH: use this interpreter's bin/.

    So the commands work from a virtual environment that was never activated.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir


def spare_slow_imports() -> None:
    """Keep this process from importing what it never uses and costs seconds: `rfc3987_syntax`,
    which jsonschema imports (compiling a grammar, 0.7 s) only to check the "iri" format that no
    notebook schema uses. nbformat imports jsonschema with every `convlab` command and every
    runner in the sandbox; jsonschema goes on without it, as where it is not installed."""
    sys.modules.setdefault("rfc3987_syntax", None)

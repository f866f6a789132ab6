"""The verification run defers the instructor's imports of drawing modules to their first use:
nothing the grader calls pays matplotlib's import, and code that does draw still gets it."""
import ast
import json
import subprocess
import sys

from autograder.inside.lazy_imports import deferred

PROBE = r"""
import json, sys
from autograder.inside.verify_run import _run_cells
first = "%s"
learner = "def draw():\n    return plt.figure(), viz.__name__\n"
namespace = {"__name__": "__main__"}
errors = _run_cells([{"index": 0, "source": first, "whole": False},
                     {"index": 1, "source": learner, "whole": True}], namespace, 30)
before = "matplotlib" in sys.modules
figure, name = namespace["draw"]()
print(json.dumps({"errors": errors, "before": before, "figure": type(figure).__name__, "viz": name,
                  "after": type(sys.modules["matplotlib.pyplot"]).__name__}))
"""


def probe(first: str) -> dict:
    code = PROBE % first.replace("\n", "\\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"MPLBACKEND": "Agg", "PATH": "/usr/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_drawing_modules_import_only_when_used():
    seen = probe("import torch\nimport matplotlib.pyplot as plt\nfrom convlab.viz import groups as viz\n")
    assert seen == {"errors": [], "before": False, "figure": "Figure", "viz": "convlab.viz.groups",
                    "after": "module"}


def test_a_name_that_is_no_module_is_imported_as_written():
    nodes = ast.parse("from convlab.viz.sliding import load_photo\nimport matplotlib\n"
                      "import numpy as np\nfrom matplotlib import pyplot as plt, colors\n").body
    kept = [deferred(node) for node in nodes]
    assert [k == [n] for k, n in zip(kept, nodes)] == [True, True, True, False]
    assert [ast.unparse(s).split(" = ")[0] for s in kept[3]] == ["plt", "colors"]

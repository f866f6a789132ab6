"""The trust line in the package's shape: what each zone of `autograder` may import (see the
zones' docstrings), and `convlab` never importing `autograder` (CONTRACT.md)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: zone -> prefixes of modules it may not import (the module itself or anything below it).
FORBIDDEN = {
    "autograder.inside": ("autograder.grading", "autograder.sandbox", "autograder.authoring", "autograder.cli",
                          "autograder.config", "autograder.offline_math", "autograder.coursedir"),
    "autograder.sandbox": ("autograder.grading", "autograder.authoring", "autograder.inside", "autograder.cli"),
    "autograder.grading": ("autograder.authoring", "autograder.cli"),
    "autograder.authoring": ("autograder.inside", "autograder.sandbox", "autograder.cli"),
    "convlab": ("autograder",),
}
#: What a zone may still import of a forbidden one, with the reason.
ALLOWED = {
    # `convlab build` refuses a lesson whose test cells the grader could not grade: it asks the
    # grader's own planning, so the two cannot disagree.
    ("autograder.authoring", "autograder.grading.verification"),
    # `convlab hub` reports a refused command line as the CLI does.
    ("autograder.authoring", "autograder.cli"),
}


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` imports, at any depth (function-level imports included), absolute."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def crossings(module: str, source: str) -> list[str]:
    """The imports of `module` (dotted name) that leave its zone the wrong way."""
    package = module.rsplit(".", 1)[0]
    wrong = []
    for zone, forbidden in FORBIDDEN.items():
        if module != zone and not module.startswith(zone + "."):
            continue
        for name in sorted(imported_modules(source, package)):
            hit = next((f for f in forbidden if name == f or name.startswith(f + ".")), None)
            if hit and not any(zone == z and (name == a or name.startswith(a + ".")) for z, a in ALLOWED):
                wrong.append(f"{module} imports {name}")
    return wrong


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("autograder", "convlab"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found.append((".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"), path))
    return found


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_no_module_crosses_its_zone(module, path):
    assert crossings(module, path.read_text()) == []


@pytest.mark.parametrize("source", [
    "from autograder.grading import score",
    "def f():\n    from autograder.sandbox.bubblewrap import run",
    "import autograder.authoring.build",
    "from ..grading.worker import run_job",
])
def test_a_crossing_is_seen_however_it_is_written(source):
    assert crossings("autograder.inside.execute", source) != []


def test_a_zone_may_import_itself_and_the_shared_modules():
    source = "from autograder.inside import files\nfrom autograder import cell_meta\nfrom . import audit"
    assert crossings("autograder.inside.verify_run", source) == []


def test_convlab_never_imports_autograder():
    assert crossings("convlab.checks.core", "import autograder") != []
    assert [m for m, p in modules() if m.startswith("convlab") and crossings(m, p.read_text())] == []


def test_every_zone_says_what_it_owns_and_may_import():
    for zone in ("inside", "sandbox", "grading", "authoring"):
        doc = ast.get_docstring(ast.parse((ROOT / "autograder" / zone / "__init__.py").read_text()))
        assert doc and "May import" in doc, zone

"""Imports of drawing modules in the instructor's cells, deferred in the verification run.

The grader's calls of a learner's functions draw nothing, yet every lesson's first cell imports
matplotlib and its figure module (about 0.5 s of a 3 s run). There, `import matplotlib.pyplot as
plt` and `from convlab.viz import groups as viz` bind a module that imports itself on first use
(`importlib.util.LazyLoader`), so code that does draw still gets the real module.
"""
from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys

DRAWING = ("matplotlib", "ipywidgets", "convlab.viz")


def _is_drawing(name: str) -> bool:
    return any(name == d or name.startswith(d + ".") for d in DRAWING)


def _spec(name: str):
    """The module's spec, found without importing its parents (`importlib.util.find_spec` would)."""
    spec, path = None, None
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        loaded = sys.modules.get(prefix)
        spec = loaded.__spec__ if loaded is not None else importlib.machinery.PathFinder.find_spec(prefix, path)
        if spec is None:
            return None
        path = spec.submodule_search_locations
    return spec


def lazy_module(name: str):
    """`name` as it is when already imported, else a module that imports itself on first use."""
    if name in sys.modules:
        return sys.modules[name]
    spec = _spec(name)
    if spec is None or spec.loader is None:
        return importlib.import_module(name)  # whatever error the real import gives
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _binding(target: str, module: str) -> ast.stmt:
    call = f"{target} = __import__({__name__!r}, fromlist=['_']).lazy_module({module!r})"
    return ast.parse(call).body[0]


def deferred(node: ast.stmt) -> list[ast.stmt]:
    """`node`, or the lazy bindings standing for it when it imports only drawing modules by name."""
    if isinstance(node, ast.Import):
        pairs = [(a.asname, a.name) for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and "*" not in {a.name for a in node.names}:
        pairs = [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names]
    else:
        return [node]
    if not all(target and _is_drawing(module) and _spec(module) is not None for target, module in pairs):
        return [node]
    return [ast.copy_location(_binding(target, module), node) for target, module in pairs]

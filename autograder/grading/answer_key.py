"""Whether a learner's function is the course's own code with its names changed.

The answer key ships with the package every learner installs: `convlab.naive` (the loops of the
lessons) and `convlab.functional` (the vectorised kernels). Calling them is refused while the
grader runs an exercise; pasting their source is not a call, so it is compared instead. Both
sides are normalised — docstrings dropped, every local name replaced by its order of first use —
and compared token by token; a learner's function that matches one of the course's closely
enough is flagged with the function it matches. A flag never changes a score. What this finds is
a paste of a whole function: the loop at its heart alone is what the lessons teach every learner
to write, so it cannot tell a paste from an honest answer.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import importlib
import inspect
import textwrap
from functools import lru_cache

#: Modules whose functions are the course's answers.
KEY_MODULES = ("convlab.naive", "convlab.functional.conv", "convlab.functional.pooling",
               "convlab.functional.padding", "convlab.functional.transposed", "convlab.functional.fold")
SIMILAR = 0.9  # share of matching tokens from which two functions count as the same code
MIN_TOKENS = 40  # shorter functions (a one-line wrapper) say too little to be told apart
MAX_TOKENS = 5_000  # longer than any of the course's: no match, and no time spent on it


def _similarity(mine: list[str], theirs: list[str]) -> float:
    """The share of tokens the two have in order; 0 where even the multiset bound says too few."""
    matcher = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
    return matcher.ratio() if matcher.quick_ratio() >= SIMILAR else 0.0


def _comparable(mine: list[str], theirs: list[str]) -> bool:
    """Whether two token lists are close enough in length to be SIMILAR at all: the ratio of
    matching tokens is at most 2 * min / (sum), so lengths far apart need no comparing."""
    shorter, longer = sorted((len(mine), len(theirs)))
    return shorter >= MIN_TOKENS and 2 * shorter / (shorter + longer) >= SIMILAR


_BUILTINS = frozenset(dir(builtins))


class _Renamer(ast.NodeTransformer):
    """Local names and parameters to `v0, v1, …` in order of first appearance; attributes and
    names of builtins kept, since they carry what the code does."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        if node.id in _BUILTINS:
            return node
        return ast.copy_location(ast.Name(self._rename(node.id), node.ctx), node)

    def visit_arg(self, node):
        node.arg = self._rename(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = "f"
        node.returns = None
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            body = body[1:] or [ast.Pass()]
        node.body = body
        self.generic_visit(node)
        return node


def tokens(function: ast.FunctionDef) -> list[str]:
    """The normalised tokens of a function definition."""
    renamed = _Renamer().visit(ast.parse(ast.unparse(function)).body[0])
    return ast.unparse(renamed).replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()


@lru_cache(maxsize=1)
def key_functions() -> dict[str, list[str]]:
    """'convlab.naive.corr2d' -> its normalised tokens, for every function of KEY_MODULES."""
    found = {}
    for dotted in KEY_MODULES:
        module = importlib.import_module(dotted)
        tree = ast.parse(textwrap.dedent(inspect.getsource(module)))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                found[f"{dotted}.{node.name}"] = tokens(node)
    return found


def functions_of(source: str, prefix: str) -> dict[str, list[str]]:
    """`prefix`.name -> normalised tokens, for every function `source` defines (the instructor's
    solution cells: the answer key every learner's package also carries in `solutions/`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    return {f"{prefix}.{node.name}": tokens(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def matches(source: str, extra: dict[str, list[str]] | None = None) -> list[tuple[str, str, float]]:
    """(learner's function, course function, similarity) for each function of `source` that is the
    course's own code with names changed: `key_functions`, and the `extra` ones (the assignment's solutions)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        mine = tokens(node)
        if not MIN_TOKENS <= len(mine) <= MAX_TOKENS:
            continue
        key = {**key_functions(), **(extra or {})}
        best = max(((name, _similarity(mine, theirs)) for name, theirs in key.items()
                    if _comparable(mine, theirs)), key=lambda pair: pair[1], default=None)
        if best is not None and best[1] >= SIMILAR:
            found.append((node.name, best[0], best[1]))
    return found

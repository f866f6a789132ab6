"""Static review of learner-written code: flags for constructs that no honest answer needs.

Python has no isolation inside a process. A learner who has read convlab's and nbgrader's
source could patch the checks, reach torch's internals or read hidden tests from the kernel.
The runtime defences live elsewhere. This module reads every cell the learner wrote with
`ast` and flags what looks like such a move. A flag never changes a score: it puts the test in
nbgrader's manual grading queue (`autograder.grading.flags`). A false flag costs an instructor's time,
so the rules are allow-lists where that is possible (imports, magics, dunders), and deny-lists
only where honest code varies too much (attribute writes, torch internals).

This is a tripwire, not a proof. Code that hides a module behind a container or a function
argument gets through. The runtime defences are what must hold.
"""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

from autograder.cell_meta import defined_name, grade_id, is_answer_cell
from autograder.grading import answer_key
from convlab.checks import registry
from convlab.checks.questions import PersonalQuestion

ALLOWED_MODULES = (
    "torch", "numpy", "math", "cmath", "itertools", "functools", "operator", "collections", "typing",
    "dataclasses", "numbers", "fractions", "statistics", "random", "time", "timeit", "string", "re",
    "copy", "warnings", "enum", "abc", "contextlib", "matplotlib", "ipywidgets", "IPython.display",
    "__future__", "convlab.functional", "convlab.naive", "convlab.shapes", "convlab.viz",
    "convlab.data", "convlab.models", "convlab.matrices", "convlab.autograd", "convlab.yours.lenet_conv2d",
)
# Inside allowed packages: ways to reach kernels, dispatch or the grader behind the checks' back.
TORCH_INTERNALS = ("torch.ops", "torch.library", "torch.overrides", "torch.utils.cpp_extension",
                   "torch.multiprocessing", "torch.export", "torch.fx", "torch.compiler")
DENIED_MODULES = (*TORCH_INTERNALS, "convlab.checks", "autograder")
_LISTED_ROOTS = {path.split(".")[0] for path in (*ALLOWED_MODULES, *DENIED_MODULES)}
CHECKS = "convlab.checks"
DISPLAY_MODULES = ("matplotlib", "ipywidgets")  # writing their settings (plt.rcParams[...]) is honest
# What the course's notebooks import under these names, assumed for a cell reviewed on its own;
# and modules no honest code names even when some other cell imported them.
COURSE_NAMES = {"torch": "torch", "nn": "torch.nn", "np": "numpy", "numpy": "numpy",
                "F": "convlab.functional", "cf": "convlab.functional", "check": CHECKS,
                **{name: name for name in (
                    "sys", "os", "ctypes", "gc", "importlib", "inspect", "builtins", "threading", "_thread",
                    "multiprocessing", "subprocess", "pickle", "marshal", "shutil", "pathlib", "socket",
                    "traceback", "dis", "runpy", "atexit", "weakref", "nbformat", "nbclient",
                    "jupyter_client", "ipykernel", "autograder", "IPython")}}

# Attributes that lead from any object to modules or to torch's dispatcher.
MODULE_DOORS = {"sys", "ops", "library", "overrides", "_C", "builtins", "__builtins__",
                "__globals__", "__code__", "__closure__", "__wrapped__", "__dict__", "__self__", "__func__",
                "checks", "references", "export", "fx",
                }
#: Standard library modules that other modules import, and so hand out as attributes (`x.signal`).
HANDED_OUT_MODULES = {"os", "subprocess", "signal", "threading", "_thread", "ctypes", "gc", "inspect", "importlib",
                      "pickle", "marshal", "shutil", "socket", "multiprocessing", "traceback", "atexit", "weakref",
                      "faulthandler", "runpy", "pydoc", "pkgutil", "linecache", "codeop"}
MODULE_DOORS |= HANDED_OUT_MODULES
#: Calls that run code held in strings; their string arguments are reviewed as code.
STRING_CODE = {"timeit.timeit", "timeit.repeat", "timeit.Timer"}
#: Largest cell or file the review reads; larger ones are flagged unread (no answer is that long).
MAX_REVIEWED_CHARS = 200_000
#: Keyword arguments that let a loader run code from a file (unpickling imports what the file names).
PICKLE_DOORS = {("allow_pickle", True), ("weights_only", False)}
#: Files beside a notebook that unpickle when loaded: reading them can import anything.
PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".joblib", ".dill")
RISKY_BUILTINS = {"exec", "eval", "compile", "__import__", "globals", "locals", "vars", "open",
                  "breakpoint", "input", "get_ipython"}
CALLED_ONLY = {"input"}  # also a common parameter name, so only a call of it is flagged
ATTRIBUTE_BUILTINS = {"getattr", "hasattr", "setattr", "delattr"}
SAFE_DUNDERS = {"__init__", "__call__", "__name__", "__len__", "__getitem__", "__setitem__", "__repr__",
                "__str__", "__iter__", "__next__", "__enter__", "__exit__", "__add__", "__mul__",
                "__class__", "__slots__", "__all__", "__post_init__",
                "__matmul__", "__eq__", "__hash__", "__doc__", "__version__"}
FRAME_ATTRIBUTES = {"f_back", "f_globals", "f_locals", "f_code", "f_builtins", "tb_frame", "tb_next",
                    "gi_frame", "cr_frame", "ag_frame"}
HOOK_METHODS = {"__torch_function__", "__torch_dispatch__", "__instancecheck__", "__subclasscheck__"}
TENSOR_CLASSES = {"torch.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter"}

#: numpy's own correlation, convolution and padding: the operations the exercises are about.
NUMPY_SHORTCUTS = {"numpy.correlate", "numpy.convolve", "numpy.pad"}
#: A str.format field that reads an attribute or an item: "{0.sys}", "{x.__globals__}", "{0[k]._m}".
_FORMAT_FIELD = re.compile(r"\{([A-Za-z0-9_]*(?:\[[^\]{}]*\])*\.[A-Za-z_][^{}:!]*)[^{}]*\}")
#: Methods that resolve an attribute path held in a string (string.Formatter's).
STRING_RESOLVERS = {"get_field", "vformat", "get_value", "format_field", "Formatter",
                    "get_type_hints", "ForwardRef", "get_annotations", "_eval_type"}

LINE_MAGICS = {"matplotlib", "pinfo", "pinfo2", "who", "whos", "precision"}
TIMING_MAGICS = {"timeit", "time"}  # their argument is code: it is reviewed like the cell
# Options that come before the statement (IPython's "n:r:tcp:qov:" for timeit).
_TIMING_OPTIONS = {"timeit": re.compile(r"\s*(?:(?:-[tcqo]+|-[nrpv]\s*\S+)(?:\s+|$))*"),
                   "time": re.compile(r"\s*(?:--no-raise-error(?:\s+|$))?")}


@dataclass(frozen=True)
class Flag:
    cell: int              # index of the cell in the notebook given
    line: int              # 1-based line in that cell's source (0 when not known)
    reason: str            # short, for the instructor
    grade_id: str | None   # nbgrader grade_id of the answer cell it is in, None for other cells


def learner_cells(nb: NotebookNode, source: NotebookNode) -> list[int]:
    """Indices of code cells in `nb` written by the learner: every autograded answer cell, and every
    code cell without an nbgrader grade_id whose source differs from every code cell source of the
    instructor's `source` notebook (learner-added or edited cells)."""
    instructor = {cell.source for cell in source.cells if cell.cell_type == "code"}
    return [index for index, cell in enumerate(nb.cells)
            if is_answer_cell(cell)
            or (cell.cell_type == "code" and grade_id(cell) is None and cell.source not in instructor)]


def review_source(source: str) -> list[tuple[int, str]]:
    """(line, reason) for each flagged construct in one cell's source (IPython syntax allowed)."""
    return _review(source, COURSE_NAMES)


def review_notebook(nb: NotebookNode, source: NotebookNode) -> list[Flag]:
    """Flags for every learner cell of `nb` (see learner_cells), in cell order.

    Names imported by any code cell of either notebook count as modules in every cell, so a
    learner cell that writes `F.conv2d = ...` is flagged although `F` came from the instructor.
    """
    names = dict(COURSE_NAMES)
    for cell in [*source.cells, *nb.cells]:
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        if tree is not None:
            names = _modules(tree, names, keep_inherited=True)
    defines = _exercise_functions(source)
    flags = []
    for index in learner_cells(nb, source):
        cell = nb.cells[index]
        found = _review(cell.source, names) + _answer_key(cell.source)
        for owner in _owners(cell, defines) if found else ():
            flags += [Flag(index, line, reason, owner) for line, reason in found]
    return flags


def _answer_key(source: str) -> list[tuple[int, str]]:
    """(line, reason) for each function of the cell that is one of the course's reference kernels
    renamed (a match with the instructor's solution is an integrity signal, not a flag:
    `integrity.course_code`)."""
    tree = _parse(source)
    if tree is None:
        return []
    return [(0, f"{mine} is the course's {theirs} with names changed ({alike:.0%} alike)")
            for mine, theirs, alike in answer_key.matches(ast.unparse(tree))]


#: Calls that bind names no `ast` reading can list (`globals()[name] = f`, `exec("corr2d = f")`).
DYNAMIC_BINDERS = {"globals", "locals", "vars", "exec", "eval", "setattr", "get_ipython", "__import__"}


def _exercise_functions(source: NotebookNode) -> dict[str, str]:
    """Function name -> grade id of the answer cell that defines it in the instructor's notebook."""
    return {name: grade_id(cell) for cell in source.cells if is_answer_cell(cell)
            for name in [defined_name(cell.source)] if name is not None and grade_id(cell) is not None}


def _owners(cell: NotebookNode, defines: dict[str, str]) -> list[str | None]:
    """The answer cells whose tests a flag in `cell` concerns: its own, and every exercise whose
    function it rebinds; [None] (every test) for a cell that is no answer or binds names dynamically."""
    tree = _parse(cell.source)
    if not is_answer_cell(cell) or tree is None:
        return [None]
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    if called & DYNAMIC_BINDERS:
        return [None]
    bound = _top_level_names(tree)
    return list(dict.fromkeys([grade_id(cell), *(defines[name] for name in sorted(bound) if name in defines)]))


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a cell binds in the notebook's namespace: at its top level, and through `global`."""
    names = {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        for target in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                              ast.ClassDef, ast.Lambda)) else ():
            if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                names.add(target.id)
            elif isinstance(target, ast.alias):
                names.add((target.asname or target.name).split(".")[0])
    return names


#: Files that load native code when imported: no Python review can read them.
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


def _module_name(relative: str) -> str | None:
    """The top-level module a file beside the notebook would be imported as, if any."""
    parts = relative.replace("\\", "/").split("/")
    top = parts[0] if len(parts) > 1 else parts[0].split(".", 1)[0]
    return top if top.isidentifier() and (len(parts) > 1 or relative.endswith((".py", *NATIVE_SUFFIXES))) else None


def review_files(files: dict[str, bytes], names: dict[str, str] | None = None) -> list[Flag]:
    """Flags for the files submitted beside a notebook: helper modules are reviewed as cells are,
    native code and names that would stand in for an installed module are flagged. Each concerns
    every test of the notebook: any cell can import a helper."""
    flags = []
    for relative, data in sorted(files.items()):
        module = _module_name(relative)
        if relative.endswith(NATIVE_SUFFIXES):
            flags.append(Flag(-1, 0, f"native code submitted beside the notebook: {relative}", None))
        elif relative.lower().endswith(PICKLE_SUFFIXES) or data[:1] == b"\x80" and data[1:2] in b"\x02\x03\x04\x05":
            flags.append(Flag(-1, 0, f"a pickle submitted beside the notebook (loading it imports what it names): "
                                     f"{relative}", None))
        elif module is not None and (_installed(module) or module in sys.stdlib_module_names):
            flags.append(Flag(-1, 0, f"{relative} would stand in for the installed module {module}", None))
        if relative.endswith(".py"):
            source = data.decode("utf-8", errors="replace")
            flags += [Flag(-1, line, f"in {relative}, line {line}: {reason}", None)
                      for line, reason in _review(source, names or COURSE_NAMES)]
    return flags


def _parse(source: str) -> ast.Module | None:
    """The cell as the kernel runs it (IPython syntax transformed), or None when it does not parse."""
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, RecursionError):
        return None


def _review(source: str, inherited: dict[str, str]) -> list[tuple[int, str]]:
    if len(source) > MAX_REVIEWED_CHARS:
        return [(0, f"too long to review ({len(source)} characters)")]
    tree = _parse(source)
    if tree is None:
        return []
    reviewer = _Reviewer(_modules(tree, inherited), _own_names(tree), set(_imports(tree)))
    # Attributes the learner's code sets itself (`memo._hits = 0`) are its own state, private or not.
    reviewer.own_attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                               and isinstance(n.ctx, ast.Store)}
    try:
        reviewer.visit(tree)
    except RecursionError:  # parses, but nests deeper than a visitor can follow: no answer needs that
        reviewer.flags.add((0, "too deeply nested to review"))
    return sorted(reviewer.flags)


# --- which names stand for modules -------------------------------------------------------------

def _under(path: str, prefixes) -> bool:
    return any(path == p or path.startswith(p + ".") for p in prefixes)


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


@lru_cache(maxsize=None)
def _installed(top: str) -> bool:
    """Whether `top` is a stdlib or installed module, not one the learner wrote and submitted:
    one not found at all, or found only in the current directory, is the learner's own."""
    if top in sys.stdlib_module_names or top in _LISTED_ROOTS:
        return True  # the course's own packages may sit in the current directory
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    if spec.origin in ("built-in", "frozen"):
        return True
    if spec.origin:  # a module file, or a package's __init__.py: its folder sits in the path entry
        folder = Path(spec.origin).parents[1 if spec.submodule_search_locations else 0]
    else:  # a namespace package
        folder = Path(next(iter(spec.submodule_search_locations or ()), ".")).parent
    return folder.resolve() != Path.cwd().resolve()


def _import_paths(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(bound name, dotted path) for each name an import statement binds; `*` binds none."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0])
                for a in node.names]
    if node.level or not node.module:
        return []  # relative: the learner's own package
    return [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names if a.name != "*"]


def _chain(node: ast.AST) -> list[str] | None:
    """['torch', 'nn', 'functional'] for `torch.nn.functional` (a getattr with a constant name
    counts as an attribute); None for anything that is not a name followed by attributes."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call) and _is_name(node.func, "getattr") and _constant_name(node):
            parts.append(_constant_name(node))
            node = node.args[0]
        elif isinstance(node, ast.Name):
            return [node.id, *reversed(parts)]
        else:
            return None


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _constant_name(call: ast.Call) -> str | None:
    """The attribute name of getattr(obj, "name") and its kin, when it is a string constant."""
    name = call.args[1] if len(call.args) >= 2 else None
    return name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None


def _resolve(node: ast.AST, modules: dict[str, str]) -> str | None:
    parts = _chain(node)
    if not parts or parts[0] not in modules:
        return None
    return ".".join([modules[parts[0]], *parts[1:]])


def _own_names(tree: ast.AST) -> set[str]:
    """Names the cell binds itself: assigned, looped over, parameters, functions and classes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _imports(tree: ast.AST) -> dict[str, str]:
    """Name -> dotted path for what the cell's imports bind, leaving out the learner's own modules."""
    return {name: path for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            for name, path in _import_paths(node) if _installed(path.split(".")[0])}


def _modules(tree: ast.AST, inherited: dict[str, str], keep_inherited: bool = False) -> dict[str, str]:
    """Name -> dotted path of what it stands for, for every name bound to an installed module or
    to an object imported from one: by an import, by a plain alias (`t = torch`), or inherited
    from other cells unless this cell rebinds the name to something of its own."""
    imported = _imports(tree)
    known = {**inherited, **imported}
    aliased = set()
    for node in ast.walk(tree):
        path = _resolve(node.value, known) if isinstance(node, ast.Assign) else None
        for target in node.targets if path else ():
            if isinstance(target, ast.Name):
                known[target.id] = path
                aliased.add(target.id)
    if keep_inherited:
        return known
    rebound = _own_names(tree) - aliased - imported.keys()
    return {name: path for name, path in known.items() if name not in rebound}


#: What a notebook may call on a per-student question (`convlab.checks.questions.PersonalQuestion`):
#: the learner's numbers and their question printed, nothing that decides a verdict.
QUESTION_API = frozenset({"numbers", "show"})


def _question_api(parts: list[str]) -> bool:
    """Whether `convlab.checks.lessonNN.NAME.ATTR` is a per-student question's learner-facing API."""
    if len(parts) != 5 or parts[4] not in QUESTION_API:
        return False
    return isinstance(registry.questions().get(f"{parts[2]}.{parts[3]}"), PersonalQuestion)


def _import_reason(path: str) -> str | None:
    allowed = path == "convlab" or _under(path, ALLOWED_MODULES)
    denied = _under(path, DENIED_MODULES) or any(_private(part) for part in path.split(".")[1:])
    if denied or (not allowed and _installed(path.split(".")[0])):
        return f"imports {path}"
    return None


# --- the review ---------------------------------------------------------------------------------

class _Reviewer(ast.NodeVisitor):
    own_attributes: set = frozenset()
    """Collects (line, reason) over one cell's tree."""

    def __init__(self, modules: dict[str, str], own: set[str], imported: set[str]):
        self.modules, self.own, self.imported = modules, own, imported
        self.flags: set[tuple[int, str]] = set()

    def flag(self, node: ast.AST, reason: str) -> None:
        self.flags.add((getattr(node, "lineno", 0), reason))

    def visit_Import(self, node):
        """`from torch import _C` is judged as torch._C; `from x import *` as x."""
        if isinstance(node, ast.Import):
            paths = [alias.name for alias in node.names]
        else:
            star = [node.module] if node.module and not node.level else []
            paths = [path for _, path in _import_paths(node)] or star
        for path in paths:
            if reason := _import_reason(path):
                self.flag(node, reason)

    visit_ImportFrom = visit_Import

    def visit_Name(self, node):
        if node.id in RISKY_BUILTINS - CALLED_ONLY and node.id not in self.own:
            self.flag(node, "uses get_ipython()" if node.id == "get_ipython" else f"uses {node.id}")
        elif node.id in ATTRIBUTE_BUILTINS and node.id not in self.own:
            self.flag(node, f"uses {node.id}")
        elif self.modules.get(node.id) in NUMPY_SHORTCUTS and node.id not in self.own:
            self.flag(node, f"uses {self.modules[node.id]}, numpy's own version of an operation the lessons write")
        elif node.id in STRING_RESOLVERS and node.id not in self.own:
            self.flag(node, f"resolves names from a string ({node.id})")
        elif node.id in self.modules and node.id not in self.imported and self._denied(self.modules[node.id]):
            self.flag(node, f"uses {self.modules[node.id]}")  # imported elsewhere: flag where it is used
        else:
            self._attribute_name(node.id, node)

    @staticmethod
    def _denied(path: str) -> bool:
        return _import_reason(path) is not None and not _under(path, [CHECKS])  # checks: see _chain_rules

    def _door(self, attribute: str, node: ast.AST, how: str) -> None:
        if (_private(attribute) or attribute in MODULE_DOORS) and attribute not in self.own_attributes:
            self.flag(node, f"reads .{attribute} through {how}")

    def _attribute_getter(self, path: str, node: ast.Call) -> None:
        """operator.attrgetter("a._b.c") and methodcaller("_m") read attributes named by strings."""
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                for part in arg.value.split("."):
                    self._attribute_name(part, node)
                    self._door(part, node, path)
            else:
                self.flag(node, f"{path} with a computed name")

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            func.parent_call = node
        for keyword in node.keywords:
            if isinstance(keyword.value, ast.Constant) and (keyword.arg, keyword.value.value) in PICKLE_DOORS:
                self.flag(node, f"loads with {keyword.arg}={keyword.value.value}: unpickling imports anything")
        name = func.id if isinstance(func, ast.Name) and func.id not in self.own else None
        if self._magic(node):
            return
        if _resolve(func, self.modules) in ("operator.attrgetter", "operator.methodcaller"):
            self._attribute_getter(_resolve(func, self.modules), node)
        if _resolve(func, self.modules) in STRING_CODE:
            self._string_statements(_resolve(func, self.modules), node)
        if name in RISKY_BUILTINS:
            self.flag(node, "uses get_ipython()" if name == "get_ipython" else f"calls {name}")
        elif name in ATTRIBUTE_BUILTINS:
            self._attribute_builtin(name, node)
        elif name == "type" and len(node.args) == 3:
            self.flag(node, "creates a class with type()")
        if name in RISKY_BUILTINS | ATTRIBUTE_BUILTINS:
            for child in [*node.args, *node.keywords]:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _string_statements(self, path: str, node: ast.Call) -> None:
        """timeit's statements given as strings: reviewed as code; computed ones cannot be."""
        for value in [*node.args[:2], *(k.value for k in node.keywords if k.arg in ("stmt", "setup"))]:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                self._code_in_string(value, value.value, path)
            elif not isinstance(value, (ast.Lambda, ast.Name, ast.Attribute)):
                self.flag(node, f"{path} with a computed statement")

    def _attribute_builtin(self, name: str, node: ast.Call) -> None:
        """getattr(obj, "weight") reads like obj.weight; a computed name could be anything."""
        if _constant_name(node):
            self._attribute_name(_constant_name(node), node)
            self._door(_constant_name(node), node, name)
            self._chain_rules(node)
        else:
            self.flag(node, f"{name} with a computed name")
        if name in ("setattr", "delattr") and not (node.args and _is_name(node.args[0], "self")):
            self.flag(node, f"calls {name} on something other than self")

    def visit_Constant(self, node):
        """A format string whose fields read attributes (`"{0.sys.modules}".format(torch)`) names
        them where no attribute node shows them."""
        if isinstance(node.value, str):
            for field_path in _FORMAT_FIELD.findall(node.value):
                self.flag(node, f"formats an attribute path from a string: {{{field_path[:60]}}}")

    def _string_resolution(self, node: ast.Attribute) -> None:
        """Ways to turn a string into an attribute path at run time."""
        if node.attr in STRING_RESOLVERS:
            self.flag(node, f"resolves names from a string (.{node.attr})")
        elif node.attr in ("format", "format_map") and isinstance(getattr(node, "parent_call", None), ast.Call) \
                and not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            self.flag(node, f"formats with a computed template (.{node.attr})")

    def visit_Attribute(self, node):
        self._string_resolution(node)
        self._chain_rules(node)
        inner = node
        while isinstance(inner, ast.Attribute):
            self._attribute_name(inner.attr, inner)
            self._hidden_module_attribute(inner)
            inner = inner.value
        self.visit(inner)

    def _hidden_module_attribute(self, node: ast.Attribute) -> None:
        """An attribute no answer reads off an object it made itself: a private name, or a way into
        modules and torch's dispatch (`[torch][0].sys.modules`, `t.ops.mkldnn`), whatever the
        object was reached through. A learner's own `self._x` (or `ctx._x`) is fine."""
        base = node.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and (base.id in ("self", "cls", "ctx") or base.id in self.modules):
            return  # own state, or a module path (judged by _chain_rules)
        if node.attr in self.own_attributes:
            return
        if _private(node.attr) or node.attr in MODULE_DOORS:
            self.flag(node, f"reads .{node.attr} of an object")

    def visit_Subscript(self, node):
        if isinstance(node.value, (ast.List, ast.Tuple, ast.Set, ast.Dict)) and any(
                _resolve(item, self.modules) for item in ast.walk(node.value) if isinstance(item, ast.Name)):
            self.flag(node, "reads a module back out of a container")
        path = _resolve(node.value, self.modules)
        if isinstance(node.ctx, (ast.Store, ast.Del)) and path and not _under(path, DISPLAY_MODULES):
            self.flag(node, f"assigns to {ast.unparse(node)}")
        self.generic_visit(node)

    def _attribute_name(self, name: str, node: ast.AST) -> None:
        if name in FRAME_ATTRIBUTES or (name.startswith("__") and name.endswith("__") and len(name) > 4
                                        and name not in SAFE_DUNDERS):
            self.flag(node, f"reads {name}")

    def _chain_rules(self, node: ast.AST) -> None:
        """Rules for a dotted name that starts at a module: private parts, torch's dispatch
        machinery, the inside of the checks, and writes into the module."""
        path = _resolve(node, self.modules)
        if path is None:
            return
        if path in NUMPY_SHORTCUTS:
            self.flag(node, f"uses {path}, numpy's own version of an operation the lessons write")
        parts = path.split(".")
        handed_out = [part for part in parts[1:] if part in HANDED_OUT_MODULES]
        if handed_out:
            self.flag(node, f"reaches the module {handed_out[0]} through {path}")
        for i, part in enumerate(parts[1:], start=2):
            if _private(part) or _under(".".join(parts[:i]), TORCH_INTERNALS):
                kind = {"torch": "torch internals", "convlab": "convlab internals"}.get(parts[0], "private")
                self.flag(node, f"reaches {kind}: {'.'.join(parts[:i])}")
                break
        binding = self.modules[_chain(node)[0]]
        if _under(path, [CHECKS]) and (len(parts) > 4 or not _under(binding, [CHECKS])) \
                and not _question_api(parts):
            self.flag(node, f"reaches into {path}")
        ctx = getattr(node, "ctx", None)
        if isinstance(ctx, (ast.Store, ast.Del)) and not _under(path, DISPLAY_MODULES):
            verb = "assigns to" if isinstance(ctx, ast.Store) else "deletes"
            self.flag(node, f"{verb} {ast.unparse(node)}")

    def visit_ClassDef(self, node):
        for base in node.bases:
            path = _resolve(base, self.modules)
            if path in TENSOR_CLASSES:
                self.flag(base, f"subclasses {path}")
            elif _is_name(base, "type") and "type" not in self.own:
                self.flag(base, "subclasses type")
        if any(keyword.arg == "metaclass" for keyword in node.keywords):
            self.flag(node, "sets a metaclass")
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in HOOK_METHODS:
            self.flag(node, f"defines {node.name}")
        for annotation in [node.returns, *(a.annotation for a in ast.walk(node.args) if isinstance(a, ast.arg))]:
            self._string_annotation(annotation)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._string_annotation(node.annotation)
        self.generic_visit(node)

    def _string_annotation(self, annotation) -> None:
        """A string annotation is code that `typing.get_type_hints` evaluates: reviewed as code."""
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            self._code_in_string(annotation, annotation.value, "an annotation")

    def _code_in_string(self, node: ast.AST, text: str, where: str) -> None:
        if _parse(text) is None:
            return
        for _, reason in _review(text, self.modules):
            self.flag(node, f"{reason} (in {where})")

    def visit_MatchClass(self, node):
        """`case object(sys=m)` reads the attribute `sys`, named only as a keyword of the pattern."""
        for attribute in node.kwd_attrs:
            self._attribute_name(attribute, node)
            if (_private(attribute) or attribute in MODULE_DOORS) and attribute not in self.own_attributes:
                self.flag(node, f"reads .{attribute} through a match pattern")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    # IPython syntax arrives as get_ipython().run_line_magic('timeit', 'corr2d(X, K)') and the like.

    def _magic(self, node: ast.Call) -> bool:
        """Review a call of get_ipython()'s methods; False when `node` is not one."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                and _is_name(func.value.func, "get_ipython") and "get_ipython" not in self.own
                and not func.value.args):
            return False
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                for a in node.args]
        if func.attr in ("system", "getoutput"):
            self.flag(node, "runs a shell command")
        elif func.attr == "run_line_magic" and len(args) == 2 and None not in args and not node.keywords:
            self._line_magic(node, *args)
        elif func.attr == "run_cell_magic" and len(args) == 3 and None not in args and not node.keywords:
            self._cell_magic(node, *args)
        else:
            self.flag(node, "uses get_ipython()")
        return True

    def _line_magic(self, node: ast.Call, name: str, line: str) -> None:
        if name in TIMING_MAGICS:
            self._timed_code(node, name, _TIMING_OPTIONS[name].sub("", line, count=1), node.lineno)
        elif name not in LINE_MAGICS:
            self.flag(node, f"runs the magic %{name}")
        elif "{" in line or "$" in line:  # IPython expands {expression} and $name in these
            self.flag(node, f"expands an expression in %{name}")

    def _cell_magic(self, node: ast.Call, name: str, line: str, body: str) -> None:
        if name not in TIMING_MAGICS:
            self.flag(node, f"runs the magic %%{name}")
            return
        self._timed_code(node, name, _TIMING_OPTIONS[name].sub("", line, count=1), node.lineno)
        self._timed_code(node, name, body, node.lineno + 1)

    def _timed_code(self, node: ast.Call, name: str, code: str, first_line: int) -> None:
        """The code a timing magic runs, reviewed as if it stood in the cell from `first_line` on."""
        if _parse(code) is None:
            self.flag(node, f"times code that does not parse in %{name}")
        for line, reason in _review(code, self.modules):
            self.flags.add((first_line + line - 1, reason))

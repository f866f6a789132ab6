"""The course's own answer keys, and catching their use while a learner's function runs.

Each exercise names the functions that compute its answer for it (its twins in
``convlab.functional`` and ``convlab.naive``, reference helpers, autograd where the exercise is a
gradient); what a later lesson may reuse is simply not named. While a check calls the learner's
function, a named function called from the learner's code — through an alias, a closure,
``functools.partial``, a subclass or a helper of the learner's — is recorded and raises
``ReferenceUsed``. The function *objects* themselves are instrumented (their ``__code__`` becomes
a trampoline), so no route to them escapes; outside a check they run as before.

Every public function of the course's kernels is instrumented, not only the banned ones, so that
an allowed reference (``convlab.functional.corr2d``) may call a banned one internally
(``convlab.functional.conv2d``): only calls made from outside the course's code count.

    with forbid_references(("convlab.functional.conv2d",)) as seen:
        fn(x, w)
    seen.names  # ['convlab.functional.conv2d'] if fn used it
"""
from __future__ import annotations

import importlib
import inspect
import os
import sys
import threading
import types

import torch

from convlab.i18n import _


def when(name: str, condition):
    """A reference banned only for the calls ``condition(arguments)`` accepts (``arguments`` are bound,
    defaults applied), e.g. ``convlab.functional.conv2d`` only with ``groups`` other than 1."""
    return (name, condition)


def _grouped(arguments) -> bool:
    return arguments.get("groups", 1) != 1


CORR2D = ("convlab.functional.corr2d", "convlab.naive.corr2d")
TRANSPOSED = ("convlab.functional.conv_transpose1d", "convlab.functional.conv_transpose2d",
              "convlab.functional.conv_transpose3d", "convlab.naive.conv_transpose2d",
              "convlab.matrices.conv_transpose_via_matrix")
IM2COL = ("convlab.functional.unfold", "convlab.functional.fold", "convlab.matrices.im2col", "convlab.matrices.windows")
MODELS = ("convlab.autograd", "convlab.models")
_CONV_1D_3D = ("convlab.functional.conv1d", "convlab.functional.conv3d")
#: What computes a multi-channel (strided, padded) convolution, less the single-channel corr2d.
CONVOLUTION = ("convlab.functional.conv2d", "convlab.naive.conv2d", *_CONV_1D_3D, *TRANSPOSED, *IM2COL,
               "convlab.matrices.conv_matrix", *MODELS)
CONVOLUTION_BUT_IM2COL = tuple(name for name in CONVOLUTION if name not in IM2COL)
#: Lesson 08 writes groups on top of an ungrouped conv2d: only a grouped call gives its answer.
GROUPED_CONVOLUTION = (when("convlab.functional.conv2d", _grouped), when("convlab.naive.conv2d", _grouped),
                       *_CONV_1D_3D, *TRANSPOSED, *MODELS)
POOLING = ("convlab.functional.max_pool1d", "convlab.functional.max_pool2d", "convlab.functional.avg_pool1d",
           "convlab.functional.avg_pool2d", "convlab.naive.max_pool2d", "convlab.naive.avg_pool2d", *MODELS)
PADDING = ("convlab.functional.pad", "convlab.functional.fold.zero_padded")
#: Autograd computes a gradient exercise's answer from any forward pass.
AUTOGRAD = ("torch.autograd.grad", "torch.autograd.backward", "torch.autograd.functional",
            "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jacrev",
            "torch.func.jacfwd")

#: Everything instrumented: the course's public kernels and helpers, and autograd's entry points.
UNIVERSE = ("convlab.functional", "convlab.naive", "convlab.matrices", "convlab.shapes", "convlab.autograd",
            "convlab.models", "convlab.functional.fold.zero_padded", *AUTOGRAD)


#: The kernels' insides (private helpers, unexported ones such as ``fold.windows``) and what the
#: figures compute with: no exercise's answer may be built on them while any of its bans holds.
INTERNAL_MODULES = ("convlab.functional.conv", "convlab.functional.fast", "convlab.functional.fold",
                    "convlab.functional.pooling", "convlab.functional.padding", "convlab.functional.transposed",
                    "convlab.naive", "convlab.matrices")
_internal: dict[str, str] = {}  # key -> name shown


def _internals() -> dict[str, types.FunctionType]:
    """Name -> function of every function defined in INTERNAL_MODULES but not exported (private, or
    left out of the module's ``__all__``)."""
    found = {}
    for dotted in INTERNAL_MODULES:
        module = importlib.import_module(dotted)
        listed = getattr(module, "__all__", None)  # without a list, every public name is exported
        for name, value in vars(module).items():
            hidden = name.startswith("_") if listed is None else name not in listed
            if (isinstance(value, types.FunctionType) and value.__module__ == dotted and hidden
                    and not (name.startswith("__") and name.endswith("__"))):
                found[f"{dotted}.{name}"] = value
    return found


class ReferenceUsed(BaseException):
    """Raised inside the learner's function when it calls a banned reference (a BaseException, so
    a learner's ``except Exception`` does not hide it; the call is recorded either way)."""


class _Depth(threading.local):
    value = 0  # > 0 while the course's own code runs in this thread


_depth = _Depth()
_active: list = []   # watches in force; learner code may start threads, so not thread-local
_originals: dict[str, types.FunctionType] = {}   # qualified name -> twin with the original code
_instrumented: dict[str, types.FunctionType] = {}  # qualified name -> the function now trampolining
_lock = threading.Lock()


def _resolve(dotted: str):
    """The object a dotted name denotes: a module, or an attribute reached from the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ValueError(f"references: no such module or attribute: {dotted!r}")


def functions(dotted: str) -> dict[str, types.FunctionType]:
    """Name -> plain function for what ``dotted`` covers: a function, a class's methods, or a module's
    public functions and classes (named as a learner imports them, e.g. ``convlab.functional.conv2d``)."""
    obj = _resolve(dotted)
    if isinstance(obj, types.ModuleType):
        found = {}
        listed = getattr(obj, "__all__", None)
        for name in listed or [n for n in vars(obj) if not n.startswith("_")]:
            value = getattr(obj, name, None)
            if isinstance(value, (type, types.FunctionType)) and (listed or value.__module__ == obj.__name__):
                found.update(functions(f"{obj.__name__}.{name}"))
        return found
    if isinstance(obj, type):
        found = {}
        for name, value in vars(obj).items():
            value = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
            if isinstance(value, types.FunctionType):
                found[f"{dotted}.{name}"] = value
        return found
    if isinstance(obj, types.FunctionType):
        return {dotted: obj}
    raise ValueError(f"references: {dotted!r} is not a function, class or module")


def _key(fn: types.FunctionType) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _trampoline(key: str, code: types.CodeType) -> types.CodeType:
    """Code that calls ``_enter(key, ...)``, with the same free variables as ``code`` (a method
    calling ``super()`` has a ``__class__`` cell), as ``__code__`` assignment requires.

    It is written on one line placed at ``code``'s first line in ``code``'s file, so
    ``inspect.getsource`` (and ``conv2d??``) still shows the real function and a traceback points
    at its ``def``."""
    free = code.co_freevars
    uses = "".join(f"{name}; " for name in free)
    source = ("\n" * max(code.co_firstlineno - 2, 0)
              + f"def outer({', '.join(free)}):\n"
              + f"    def trampoline(*args, **kwargs): {uses}"
              + f"from convlab.checks.references import _enter; return _enter({key!r}, args, kwargs)\n"
              + "    return trampoline\n")
    namespace: dict = {}
    exec(compile(source, code.co_filename, "exec"), {}, namespace)  # noqa: S102 - our own text
    return namespace["outer"](*[None] * len(free)).__code__


def _instrument(fn: types.FunctionType) -> None:
    """Swap ``fn``'s code for a trampoline into ``_enter``; keep a twin with the original code."""
    key = _key(fn)
    if key in _originals or "_enter" in fn.__code__.co_names:
        return
    code = _trampoline(key, fn.__code__)
    if code.co_freevars != fn.__code__.co_freevars:
        return
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__kwdefaults__ = fn.__kwdefaults__
    try:
        fn.__signature__ = inspect.signature(fn)  # help() keeps showing the real parameters
    except (TypeError, ValueError):
        pass
    _originals[key] = twin
    _instrumented[key] = fn
    fn.__code__ = code
    fn.__defaults__ = fn.__kwdefaults__ = None


#: Where the course's own code (and torch, which calls a model's forward) lives: a reference called
#: from there, inside another reference, is the course at work.
_COURSE_FILES = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,   # convlab/
                 os.path.dirname(os.path.abspath(torch.__file__)) + os.sep)


_CONVLAB_FILES = _COURSE_FILES[0]
_MACHINERY = os.path.abspath(__file__)
#: Where installed code other than the course's lives (torch, the standard library, packages).
_INSTALLED = tuple(sorted({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
                          | {_COURSE_FILES[1]}))
#: The checks' own code: the only callers ``original`` gives an unwatched function to.
_CHECKS_FILES = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _course_caller():
    """The frame of the course's code this reference was called for, or None when it was called
    from outside the course's code: at depth 0, or, inside another reference, on behalf of code
    that is not the course's. Installed code between (torch calling a model's forward, a wrapper, a
    standard library helper) and the outer reference's own way in are looked through to the code
    they run for: the learner's code called back from inside a reference is still the learner's."""
    if _depth.value == 0:
        return None
    frame = sys._getframe(3)  # _course_caller <- _enter <- trampoline <- caller
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == _MACHINERY or _is_trampoline(frame.f_code):
            frame = frame.f_back  # the outer reference's own way in: look at who called it
            continue
        if filename.startswith(_CONVLAB_FILES):
            return frame
        if not filename.startswith(_INSTALLED) and not filename.startswith("<frozen "):
            return None
        frame = frame.f_back
    return None


def _is_trampoline(code) -> bool:
    """Whether `code` is a reference's trampoline (see `_trampoline`): it calls `_enter` and nothing else."""
    return "_enter" in code.co_names


def _enter(key: str, args, kwargs):
    original = _originals[key]
    caller = _course_caller()
    if caller is None:
        hits = []  # every watch in force records the call (nested checks each report it)
        for watch in list(_active):
            name = watch.banned_call(key, original, args, kwargs)
            if name is not None:
                watch.hit(name)
                hits.append(name)
        if hits:
            raise ReferenceUsed(hits[0])
    elif original.__name__ not in caller.f_code.co_names:
        # The course's code ran it without calling it by name: what it called was handed to it (an
        # iterator over a map, say), so the learner's code may have steered it. Allowed, and said.
        for watch in list(_active):
            name = watch.banned_call(key, original, args, kwargs)
            if name is not None:
                watch.ran_inside(name)
    _depth.value += 1
    try:
        return original(*args, **kwargs)
    finally:
        _depth.value -= 1


def original(fn):
    """``fn`` as it was before instrumenting: what a check's own code calls (e.g. ``backward``).
    Asked for from anywhere else, ``fn`` itself, watched as any call of it is."""
    if not sys._getframe(1).f_code.co_filename.startswith(_CHECKS_FILES):
        return fn
    return _originals.get(_key(fn), fn)


_installed = False


def install() -> None:
    """Instrument every function of ``UNIVERSE`` (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        for name in UNIVERSE:
            for fn in functions(name).values():
                _instrument(fn)
        for shown, fn in _internals().items():
            _instrument(fn)
            _internal[_key(fn)] = shown
        _installed = True


class forbid_references:
    """Record (and stop) every call of the named references made from outside the course's code
    inside the block, in any thread. ``names``: dotted names, or ``when(name, condition)``."""

    def __init__(self, names=()):
        install()
        self.conditions: dict[str, tuple[str, object]] = {}  # key -> (name shown, condition or None)
        for entry in names:
            name, condition = entry if isinstance(entry, tuple) else (entry, None)
            for shown, fn in functions(name).items():
                _instrument(fn)
                self.conditions.setdefault(_key(fn), (shown, condition))
        self.names: list[str] = []
        self.inside: list[str] = []  # banned references the course's own code called meanwhile

    def ran_inside(self, name: str) -> None:
        if name not in self.inside:
            self.inside.append(name)

    def banned_call(self, key, original, args, kwargs) -> str | None:
        """The name to report when this call is banned, else None."""
        if key in _internal:
            return _internal[key]
        if key not in self.conditions:
            return None
        shown, condition = self.conditions[key]
        if condition is None:
            return shown
        try:
            bound = inspect.signature(original).bind(*args, **kwargs)
        except TypeError:
            return None  # the call itself will fail with torch's own message
        bound.apply_defaults()
        return shown if condition(bound.arguments) else None

    def hit(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def __enter__(self):
        if self.conditions:
            _active.append(self)
        return self

    def __exit__(self, *exc):
        if self.conditions:
            try:
                _active.remove(self)
            except ValueError:  # taken out of force while the block ran: whatever ran there is suspect
                self.hit(WATCH_REMOVED)
        return False


#: What a watch records when code inside its block took it out of force (emptied the watch list).
WATCH_REMOVED = "convlab.checks.references (its watch taken out of force)"


def reference_message(name: str) -> str:
    """The one line of feedback for a reference used."""
    if name.startswith("torch."):
        return _("uses {name}, which computes this exercise's answer for you — write it yourself.").format(name=name)
    return _("uses the course's reference {name} — write it yourself.").format(name=name)

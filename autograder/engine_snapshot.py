"""What the grader's run relies on, as it was before any learner code ran: put back, and told apart.

The grader's run of a learner's functions (`autograder.verify_run`) uses the check engine, the
record writer, the bans and the course's instrumented kernels in the learner's own process.
Learner cells can patch any of them (a replaced `Exercise.call` that answers with the reference,
a module function swapped, a function's `__code__` rewritten). A `Snapshot` taken before the
cells run remembers every module attribute, class attribute and function body of those modules;
`restore()` puts back whatever the cells changed, and `changes()` says what changed since, so a
patch made while a learner's function runs is caught after it. Python has no isolation inside a
process: code that undoes its own patch in time passes unseen. This raises the bar and makes the
rest visible, as a review flag.
"""
from __future__ import annotations

import types

_MISSING = object()


def _function_state(fn: types.FunctionType) -> tuple:
    return fn.__code__, fn.__defaults__, fn.__kwdefaults__


class Snapshot:
    """The attributes of `modules`, of the classes they define and of `objects` (the exercises in
    use), and the bodies of their functions and of `functions`, as they are now."""

    def __init__(self, modules, objects=(), functions=()):
        self.attributes: list[tuple[object, str, object]] = []  # (owner, name, value)
        self.owners: dict[int, tuple[object, frozenset]] = {}  # id -> (class or object, its names)
        self.functions: dict[int, tuple[types.FunctionType, tuple]] = {}
        for module in modules:
            for name, value in list(vars(module).items()):
                self._remember(module, name, value)
                if isinstance(value, type) and value.__module__ == module.__name__:
                    self._remember_owner(value)
        for obj in objects:
            self._remember_owner(obj)
        for fn in functions:
            self.functions[id(fn)] = (fn, _function_state(fn))

    def _remember(self, owner, name: str, value) -> None:
        self.attributes.append((owner, name, value))
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, types.FunctionType):
            self.functions[id(value)] = (value, _function_state(value))

    def _remember_owner(self, owner) -> None:
        if id(owner) in self.owners or not hasattr(owner, "__dict__"):
            return
        self.owners[id(owner)] = (owner, frozenset(vars(owner)))
        for name, value in list(vars(owner).items()):
            if name not in ("__dict__", "__weakref__"):
                self._remember(owner, name, value)

    def changes(self) -> list[str]:
        """What is no longer as it was: 'convlab.checks.core.Exercise.call', ..."""
        found = [f"{_name(owner)}.{name}" for owner, name, value in self.attributes
                 if vars(owner).get(name, _MISSING) is not value]
        for owner, names in self.owners.values():
            found += [f"{_name(owner)}.{name}" for name in set(vars(owner)) - names]
        found += [f"{fn.__module__}.{fn.__qualname__} (its code)" for fn, state in self.functions.values()
                  if _function_state(fn) != state]
        return sorted(set(found))

    def restore(self) -> list[str]:
        """Put back everything `changes()` names; returns what it named."""
        changed = self.changes()
        for owner, name, value in self.attributes:
            if vars(owner).get(name, _MISSING) is not value:
                _set(owner, name, value)
        for owner, names in self.owners.values():
            for name in set(vars(owner)) - names:
                (type.__delattr__ if isinstance(owner, type) else object.__delattr__)(owner, name)
        for fn, (code, defaults, kwdefaults) in self.functions.values():
            fn.__code__, fn.__defaults__, fn.__kwdefaults__ = code, defaults, kwdefaults
        return changed


def _set(owner, name: str, value) -> None:
    if isinstance(owner, (type, types.ModuleType)):
        setattr(owner, name, value)
    else:
        object.__setattr__(owner, name, value)  # a frozen dataclass's too


def _name(owner) -> str:
    if isinstance(owner, types.ModuleType):
        return owner.__name__
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}"
    return getattr(owner, "name", type(owner).__name__)

"""What the grader's run relies on, as it was before any learner code ran: put back, and told apart.

The grader's run of a learner's functions (`autograder.inside.verify_run`) uses the check engine, the
record writer, the bans and the course's instrumented kernels in the learner's own process.
Learner cells can patch any of them (a replaced `Exercise.call` that answers with the reference,
a module function swapped, a function's `__code__` rewritten). A `Snapshot` taken before the
cells run remembers every module attribute, class attribute and function body of those modules;
`restore()` puts back whatever the cells changed, and `changes()` says what changed since, so a
patch made while a learner's function runs is caught after it. Lists, dicts and sets (the
references' tables, the watches in force) are compared by their contents, not only by identity:
emptied or with an entry replaced, they count as changed; grown, they do not. Python has no isolation inside a
process: code that undoes its own patch in time passes unseen. This raises the bar and makes the
rest visible, as a review flag.
"""
from __future__ import annotations

import types

_MISSING = object()


def _function_state(fn: types.FunctionType) -> tuple:
    return fn.__code__, fn.__defaults__, fn.__kwdefaults__


_CONTAINERS = (list, dict, set)


def _contents(value) -> tuple:
    """What a list, dict or set holds, by identity."""
    items = value.items() if type(value) is dict else ((None, item) for item in value)
    return tuple((key if isinstance(key, (str, int)) else id(key), id(item)) for key, item in items)


def _lost(value, contents: tuple) -> bool:
    """Whether a container lost or replaced what it held: a list whose start differs, a dict or a
    set missing an entry. Growing is no change (hits recorded, caches filled)."""
    now = _contents(value)
    if type(value) is list:
        return now[:len(contents)] != contents
    return not set(contents) <= set(now)


def _refill(value, contents) -> None:
    """Put a container's remembered contents back in place."""
    value.clear()
    if type(value) is dict:
        value.update(contents)
    elif type(value) is list:
        value.extend(contents)
    else:
        value.update(contents)


class Snapshot:
    """The attributes of `modules`, of the classes they define and of `objects` (the exercises in
    use), and the bodies of their functions and of `functions`, as they are now."""

    def __init__(self, modules, objects=(), functions=()):
        self.attributes: list[tuple[object, str, object]] = []  # (owner, name, value)
        self.owners: dict[int, tuple[object, frozenset]] = {}  # id -> (class or object, its names)
        self.functions: dict[int, tuple[types.FunctionType, tuple]] = {}
        # id -> (container, its items as they were, their identities): the guard's lists and watches
        self.containers: dict[int, tuple[object, object, tuple]] = {}
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
        if type(value) in _CONTAINERS and id(value) not in self.containers:
            kept = dict(value) if type(value) is dict else list(value)
            self.containers[id(value)] = (value, kept, _contents(value))
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
        found += [f"{self._container_name(value)} (its contents)" for value, _, contents in self.containers.values()
                  if _lost(value, contents)]
        return sorted(set(found))

    def _container_name(self, container) -> str:
        for owner, name, value in self.attributes:
            if value is container:
                return f"{_name(owner)}.{name}"
        return type(container).__name__

    def restore(self) -> list[str]:
        """Put back everything `changes()` names; returns what it named."""
        changed = self.changes()
        for owner, name, value in self.attributes:
            if vars(owner).get(name, _MISSING) is not value:
                _set(owner, name, value)
        for owner, names in self.owners.values():
            for name in set(vars(owner)) - names:
                (type.__delattr__ if isinstance(owner, type) else object.__delattr__)(owner, name)
        for fn, state in self.functions.values():
            if _function_state(fn) != state:  # only what changed: the audit hook refuses the rest
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = state
        for value, kept, contents in self.containers.values():
            if _lost(value, contents):
                _refill(value, kept)
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

"""The grader's run's audit hook (PEP 578): what learner code there may not do, and a trace of
what it did that no honest answer does, written where the grader reads it after the run.

`autograder.inside.verify_run` installs it before any learner code runs. Python has no way to remove an
audit hook, and this one keeps nothing in module globals: its settings are bound as default
arguments of a function that only the interpreter holds, and it refuses what would find or change
it (the garbage collector's object lists, `ctypes`, rewriting a protected function's code).

Refused (the operation raises `PermissionError` in the learner's code):
- finding objects behind the grader's back: `gc.get_objects`, `gc.get_referrers`, `gc.get_referents`;
- going below Python: `ctypes`, tracing and profiling hooks (`sys.settrace`, `sys.setprofile`);
- leaving the hook's reach: new processes (`fork`, `exec`, `subprocess`, `os.system`) and signals
  sent to processes (`os.kill`);
- rewriting the code or defaults of the grader's own functions (checks, references, guard, runner);
- opening a file under the records' folder other than to create it anew (the runner writes each
  record once, at a name of its own), renaming or removing one there, touching the trace;
- unpickling anything but the arrays and tensors numpy and torch save (a pickle names what it imports).

Traced (one line each in the trace file; the grader flags the notebook for review): a frame taken
by learner code (`sys._getframe`, `inspect.currentframe`, a traceback's or a generator's frame,
`sys._current_frames`) — the way to the grader's locals, seeds and cases.
"""
from __future__ import annotations

import os
import sys

#: Events refused outright once the hook is armed, and written to the trace.
REFUSED = frozenset({"gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
                     "sys.addaudithook"})
#: Events refused without a trace line: libraries try them in honest runs (matplotlib runs fc-list
#: to build its font cache and falls back without it), and refused, they gain nothing.
REFUSED_QUIETLY = frozenset({"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                             "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn", "os.startfile"})
REFUSED_PREFIXES = ("ctypes.", "_ctypes.", "cpython.")
#: What unpickling may look up: the modules numpy's and torch's saved arrays and tensors name.
PICKLE_MODULES = frozenset({
    "numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric",
    "numpy.dtypes", "torch", "torch._utils", "torch._tensor", "torch.storage", "torch.serialization",
    "torch.nn.parameter", "collections", "_codecs", "copyreg", "__main__",
})
#: Attributes that hand out a frame, as the `object.__getattr__` event names them.
FRAME_DOORS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
FRAME_EVENTS = frozenset({"sys._getframe", "sys._current_frames"})
#: Function attributes whose change rewrites what the function does.
CODE_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__closure__", "__globals__"})
#: Standard library modules that pass a frame on to their caller: the call counts as their caller's.
FRAME_HANDLERS = ("inspect.py", "traceback.py", "pdb.py", "bdb.py", "cgitb.py")
TRACE_LINE_LIMIT = 300


def protected_functions(prefixes: tuple[str, ...] = ("convlab", "autograder", "__main__")) -> set:
    """Every plain function (and method) defined in the loaded modules named by `prefixes`."""
    import types

    found = set()
    for name, module in list(sys.modules.items()):
        if module is None or not any(name == p or name.startswith(p + ".") for p in prefixes):
            continue
        for value in list(vars(module).values()):
            candidates = [value] + (list(vars(value).values()) if isinstance(value, type) else [])
            for item in candidates:
                item = getattr(item, "__func__", item)
                if isinstance(item, types.FunctionType):
                    found.add(item)
    return found


def _writing(mode, flags, _str=str, _int=int, _isinstance=isinstance, _any=any,
             _mask=os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND | os.O_CREAT) -> bool:
    """Whether an `open` event's mode or flags can change the file."""
    if _isinstance(mode, _str):
        return _any(c in mode for c in "wax+")
    return _isinstance(flags, _int) and flags >= 0 and bool(flags & _mask)


def installation() -> tuple[str, ...]:
    """Where this Python, its packages and convlab live: code from there is not the learner's."""
    import autograder
    import convlab

    places = {sys.prefix, sys.base_prefix, sys.exec_prefix,
              os.path.dirname(os.path.abspath(convlab.__file__)), os.path.dirname(os.path.abspath(autograder.__file__))}
    return tuple(sorted(os.path.realpath(p) + os.sep for p in places))


_FILE_EVENTS = frozenset({"open", "os.truncate", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree",
                          "os.chmod", "os.chown", "os.link", "os.symlink", "os.utime"})


def install(trace_path: str, guarded_dirs: tuple[str, ...], protected: set) -> None:
    """Arm the hook for the rest of this process: refuse and trace as the module docstring says,
    append trace lines to `trace_path` (created now), keep the records under `guarded_dirs` as
    written, and keep the functions in `protected` (and the hook itself) as they are."""
    fd = os.open(trace_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
    info = os.fstat(fd)
    roots = tuple(os.path.realpath(d) for d in guarded_dirs) + (os.path.realpath(trace_path),)
    sys.addaudithook(_make_hook(fd, (info.st_dev, info.st_ino), roots, frozenset(protected), installation()))


def _make_hook(fd, trace_id, roots, protected, own_files):  # noqa: C901 - the hook below, one dispatch
    """The hook, with everything it reads bound as defaults (see `install`). One dispatch over every
    audited event, every name it uses bound when it is armed (no global a learner could replace);
    split into helpers, each event would cost a call more and each helper its own bindings."""
    import _thread

    busy: set = set()  # threads inside the hook: its own calls raise events too, and pass unseen

    def hook(event, args, _fd=fd, _trace_id=trace_id, _roots=roots, _protected=protected, _busy=busy,  # noqa: C901 - one dispatch (see above)
             _refused=REFUSED, _prefixes=REFUSED_PREFIXES, _doors=FRAME_DOORS, _frame_events=FRAME_EVENTS,
             _code=CODE_ATTRIBUTES, _handlers=FRAME_HANDLERS, _own=own_files, _sys=sys, _ident=_thread.get_ident,
             _guarded=_guarded, _note=_note, _isinstance=isinstance, _str=str, _file_events=_FILE_EVENTS,
             _pickle_modules=PICKLE_MODULES, _quiet=REFUSED_QUIETLY, _permission=PermissionError):
        if event in _quiet:
            raise _permission(f"not allowed while the grader runs learner code: {event}")
        me = _ident()
        if me in _busy:
            return
        _busy.add(me)
        try:
            refused = None
            if event in _refused or event.startswith(_prefixes):
                refused = event
            elif event == "object.__setattr__" or event == "object.__delattr__":
                if args[1] in _code and (args[0] in _protected or args[0] is hook):
                    refused = f"{event} {args[1]} of the grader's own code"
            elif event in _file_events:
                refused = _guarded(event, args, _roots)
            elif event == "pickle.find_class":
                if args[0] not in _pickle_modules:
                    refused = f"unpickling {args[0]}.{args[1]}"
            elif event == "compile" or event == "code.__new__":
                if _isinstance(args[1], _str) and args[1].startswith(_own) and not _sys._getframe(
                        1).f_code.co_filename.startswith("<frozen importlib"):  # importing installed code
                    refused = f"{event} under the name of installed code ({args[1]})"
            elif event in _frame_events or (event == "object.__getattr__" and args[1] in _doors):
                caller = _sys._getframe(1)
                while caller is not None and caller.f_code.co_filename.endswith(_handlers):
                    caller = caller.f_back  # inspect.currentframe() is its caller's act
                where = caller.f_code.co_filename if caller is not None else "?"
                if not where.startswith(_own):
                    _note(f"took a frame: {event} {args[1] if event == 'object.__getattr__' else ''}".strip()
                          + f" ({where})", _fd, _trace_id)
            if refused is not None:
                _note(f"refused: {refused}", _fd, _trace_id)
                raise _permission(f"not allowed while the grader runs learner code: {refused}")
        finally:
            _busy.discard(me)

    return hook


def _exclusive(mode, flags, _str=str, _int=int, _isinstance=isinstance,
               _both=os.O_CREAT | os.O_EXCL) -> bool:
    """Whether an `open` event creates a new file and fails where one exists ("x", O_CREAT|O_EXCL)."""
    if _isinstance(mode, _str):
        return "x" in mode
    return _isinstance(flags, _int) and flags >= 0 and flags & _both == _both


def _guarded(event, args, roots, _os=os, _writing=_writing, _exclusive=_exclusive, _str=str, _bytes=bytes,
             _int=int, _isinstance=isinstance, _any=any) -> str | None:
    """Why a file operation is refused, else None: under a guarded directory a file may only be
    created anew (the runner writes each record once, at its own name), never opened to be
    changed, moved or removed; the trace may not be touched at all."""
    if event == "open" and not _writing(args[1], args[2]):
        return None
    for path in (args[:2] if event in ("os.rename", "os.link", "os.symlink") else args[:1]):
        if _isinstance(path, _int):  # a descriptor (os.truncate, os.chmod on an fd)
            try:
                path = _os.readlink(f"/proc/self/fd/{path}")
            except OSError:
                return f"{event} of descriptor {path}"
        if not _isinstance(path, (_str, _bytes)):
            continue
        real = _os.path.realpath(_os.fsdecode(path))
        inside = _any(real == root or real.startswith(root + _os.sep) for root in roots)
        if not inside or (event == "open" and real != roots[-1] and _exclusive(args[1], args[2])):
            continue
        return f"{event} {real}"
    return None


def _note(line: str, fd: int, trace_id: tuple, _os=os, _limit=TRACE_LINE_LIMIT, _permission=PermissionError) -> None:
    """Append one line to the trace, or raise where the trace's descriptor was replaced."""
    info = _os.fstat(fd)
    if (info.st_dev, info.st_ino) != trace_id:
        raise _permission("the grader's trace was replaced")
    _os.write(fd, (line[:_limit].replace("\n", " ") + "\n").encode("utf-8", "replace"))


def read_trace(text: str | None, limit: int = 20) -> list[str]:
    """The distinct lines of a trace file's text, first `limit` of them (for review flags)."""
    seen: dict[str, None] = {}
    for line in (text or "").splitlines():
        if line.strip():
            seen.setdefault(line.strip()[:TRACE_LINE_LIMIT], None)
    return list(seen)[:limit]

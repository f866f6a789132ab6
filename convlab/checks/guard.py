"""Dispatcher-level detection of torch's own convolution, pooling, im2col/col2im and padding kernels.

A ban by name (``F.conv2d``) is bypassed by any alias (``torch.conv2d``,
``torch.ops.aten.convolution``, ``torch._C._nn.im2col``...). Every alias reaches the
dispatcher as the same ATen operator, so a ``TorchDispatchMode`` sees them all.

    with forbid_builtin_kernels() as seen:
        out = fn(x, w)
    if seen.ops:
        ...  # report seen.first(), e.g. "aten.convolution"
"""
from __future__ import annotations

import re
import sys

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


def _packets(*names: str) -> frozenset:
    """The ATen overload packets among `names` that exist in this torch build."""
    found = []
    for name in names:
        try:
            found.append(getattr(torch.ops.aten, name))
        except (AttributeError, RuntimeError):  # not in this build (e.g. mps-only ops)
            continue
    return frozenset(found)


CONVOLUTION_OPS = _packets(
    "convolution", "_convolution", "_convolution_mode", "convolution_overrideable",
    "convolution_backward", "convolution_backward_overrideable", "_convolution_double_backward",
    "conv1d", "conv2d", "conv3d", "conv_tbc", "conv_tbc_backward",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "cudnn_convolution", "cudnn_convolution_transpose", "cudnn_convolution_relu",
    "cudnn_convolution_add_relu",
    "miopen_convolution", "miopen_convolution_transpose", "miopen_depthwise_convolution",
    "miopen_convolution_relu", "miopen_convolution_add_relu",
    "mkldnn_convolution", "_mps_convolution", "_mps_convolution_transpose",
    "_nnpack_spatial_convolution", "_conv_depthwise2d", "conv_depthwise3d",
    "_slow_conv2d_forward", "_slow_conv2d_backward", "thnn_conv2d",
    "slow_conv3d", "slow_conv3d_forward", "slow_conv_dilated2d", "slow_conv_dilated3d",
    "slow_conv_transpose2d", "slow_conv_transpose3d",
)

IM2COL_OPS = _packets("im2col", "col2im")

POOLING_OPS = _packets(
    "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "max_pool2d_backward", "max_pool2d_with_indices_backward", "max_pool3d_with_indices_backward",
    "max_unpool2d", "max_unpool3d",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "avg_pool2d_backward", "avg_pool3d_backward",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "_adaptive_avg_pool2d", "_adaptive_avg_pool3d",
    "_adaptive_avg_pool2d_backward", "_adaptive_avg_pool3d_backward", "adaptive_avg_pool3d_backward",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool2d_backward", "adaptive_max_pool3d_backward",
    "fractional_max_pool2d", "fractional_max_pool3d",
    "fractional_max_pool2d_backward", "fractional_max_pool3d_backward",
    "mkldnn_max_pool2d", "mkldnn_max_pool3d", "mkldnn_adaptive_avg_pool2d",
    "quantized_max_pool1d", "quantized_max_pool2d", "quantized_max_pool3d",
)

PADDING_OPS = _packets(
    "pad", "_pad_enum", "_pad_circular", "constant_pad_nd",
    "reflection_pad1d", "reflection_pad2d", "reflection_pad3d",
    "replication_pad1d", "replication_pad2d", "replication_pad3d",
)

#: torch's channel shuffle, what lesson 08's channel_shuffle exercise asks to write.
SHUFFLE_OPS = _packets("channel_shuffle", "native_channel_shuffle")

#: Every torch kernel an exercise might be tempted to call instead of being written.
BANNED_ATEN_OPS = CONVOLUTION_OPS | IM2COL_OPS | POOLING_OPS | PADDING_OPS

#: What a convolution or pooling exercise bans: torch's padding stays allowed there,
#: since padding is an earlier lesson's exercise and not the skill under test.
KERNEL_OPS = CONVOLUTION_OPS | IM2COL_OPS | POOLING_OPS


def op_name(packet) -> str:
    """'aten.convolution' for torch.ops.aten.convolution."""
    return str(packet)


# Composite ops that torch decomposes into general ops (cat, slicing) before the dispatcher's
# Python key, so a dispatch mode never sees them; they are caught where they are called instead.
_COMPOSITE_NAMES = {"pad": "aten.pad", "_pad_circular": "aten._pad_circular", "_pad_enum": "aten._pad_enum"}
_TORCH_MODULES = ("torch", "torch.nn.functional", "torch._C._nn", "torch._C._VariableFunctions", "torch._ops.aten")


class _CallSite(TorchFunctionMode):
    """Sees python-level calls of composite ops that never reach the dispatcher as themselves."""

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _COMPOSITE_NAMES.get(getattr(func, "__name__", ""))
        if name is not None and getattr(func, "__module__", None) in _TORCH_MODULES:
            self.owner._seen(name)
        return func(*args, **(kwargs or {}))


class forbid_builtin_kernels(TorchDispatchMode):
    """Record every banned ATen op dispatched inside the block; the caller decides what to report.

    The op still runs, so the learner's function finishes and the check can name the
    shortcut instead of showing a torch traceback.
    """

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch would wrap __torch_dispatch__ to keep torch.compile out of it, importing
        # torch._dynamo (over a second) on first use; no check compiles anything.
        return False

    def __init__(self, banned=BANNED_ATEN_OPS):
        super().__init__()
        self.banned = frozenset(banned)
        self._banned_names = {op_name(p) for p in self.banned}
        self.ops: list[str] = []
        self._call_site = _CallSite(self)

    def _seen(self, name: str) -> None:
        if name in self._banned_names and name not in self.ops:
            self.ops.append(name)

    def __enter__(self):
        self._call_site.__enter__()
        try:
            return super().__enter__()
        except BaseException:
            self._call_site.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            self._call_site.__exit__(*exc)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self._seen(op_name(func.overloadpacket))
        return func(*args, **(kwargs or {}))

    def first(self) -> str | None:
        """The first banned op seen, or None."""
        return self.ops[0] if self.ops else None


class DeviceMixing(TorchDispatchMode):
    """On a meta-device run: notices an op that meets a meta tensor and a CPU tensor the function
    made itself (a 0-dim CPU tensor mixes with any device in torch, so it does not count).

    This, not an error message, names a device mistake: reading values (``.item()``, ``.numpy()``)
    also fails on meta, and that is no mistake.
    """

    mixed = False

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        # An in-place op's destination counts at any size: `out[i, j] = value` writes into it.
        target = args[0] if args and func.overloadpacket.__name__.endswith("_") else None
        devices = {t.device.type for t in tree_leaves((args, kwargs or {})) if isinstance(t, torch.Tensor)
                   and (t is target or not (t.device.type == "cpu" and t.dim() == 0))}
        if "meta" in devices and "cpu" in devices:
            self.mixed = True
        return func(*args, **(kwargs or {}))


#: Banned ops that reached a kernel disabled by ``disable_builtin_kernels`` (in call order).
disabled_kernel_hits: list[str] = []
#: The raising kernels made (the grader's run keeps their code from being rewritten).
disabling_kernels: list = []


def _raiser(name: str):
    def kernel(*args, **kwargs):
        disabled_kernel_hits.append(name)
        raise RuntimeError(f"{name} is disabled while the grader runs learner code")
    return kernel


#: Namespaces other than aten whose convolution and pooling kernels compute an answer just as well
#: (oneDNN's fused convolutions, quantized ones: quantize, convolve, dequantize).
FOREIGN_NAMESPACES = ("mkldnn", "mkldnn_prepacked", "onednn", "quantized", "_quantized")
_FOREIGN = re.compile(r"conv|pool")
_KEYS = ("CPU", "CUDA", "Meta", "QuantizedCPU", "QuantizedCUDA", "MkldnnCPU")


def foreign_kernel_ops() -> list[str]:
    """'ns::name.overload' of every convolution or pooling op of FOREIGN_NAMESPACES in this build."""
    return sorted(name for name in torch._C._dispatch_get_all_op_names()
                  if name.split("::", 1)[0] in FOREIGN_NAMESPACES and _FOREIGN.search(name.split("::", 1)[1]))


def disable_builtin_kernels(ops=KERNEL_OPS | SHUFFLE_OPS) -> int:
    """Replace torch's kernels of ``ops`` and of ``foreign_kernel_ops()`` in this process (CPU, CUDA,
    Meta, quantized, oneDNN) by ones that record the call and raise, so no Python-level escape
    (leaving a mode, a thread, ``torch.ops``) reaches them. The registrations are held by nothing
    Python can reach, so they last as long as the process. For the grader's process that runs
    learner code only. Returns how many kernels were replaced."""
    import warnings

    wanted: list[tuple[str, str, str]] = []  # (namespace, qualified name, name shown)
    for packet in ops:
        base = str(packet).split(".", 1)[1]
        wanted += [("aten", base if overload == "default" else f"{base}.{overload}", op_name(packet))
                   for overload in packet.overloads()]
    for name in foreign_kernel_ops():
        namespace, qualified = name.split("::", 1)
        wanted.append((namespace, qualified, f"{namespace}.{qualified.split('.')[0]}"))
    modules: dict[str, object] = {}
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for namespace, qualified, shown in wanted:
            module = modules.setdefault(namespace, torch._C._dispatch_library("IMPL", namespace, "", "", 0))
            for key in _KEYS:
                kernel = _raiser(shown)
                try:
                    module.impl(qualified, key, kernel, False)
                except RuntimeError:  # e.g. an op this build has no schema for
                    continue
                disabling_kernels.append(kernel)
                count += 1
    for module in modules.values():
        _keep_forever(module)
    return count


#: Modules whose functions are torch's Python versions of ops (decompositions, references).
DECOMPOSITION_MODULES = ("torch._decomp.decompositions", "torch._refs", "torch._refs.nn.functional")


def disable_python_decompositions(ops=KERNEL_OPS | SHUFFLE_OPS) -> int:
    """Replace torch's Python implementations of ``ops`` (the decomposition tables that
    ``torch.export.default_decompositions()`` and friends hand out, and the module functions they
    come from) by functions that record the call and raise: they compute an answer with no kernel.
    Shape-only meta implementations stay. For the grader's process that runs learner code only."""
    import importlib

    import torch._decomp

    packets = frozenset(ops)
    found: dict[int, object] = {}  # id -> function (kept alive, so ids stay unique)
    for kind, table in torch._decomp.global_decomposition_table.items():
        if kind == "meta":
            continue
        for op, fn in list(table.items()):
            if getattr(op, "overloadpacket", None) in packets:
                while fn is not None and id(fn) not in found:  # the function and what it wraps
                    found[id(fn)] = fn
                    fn = getattr(fn, "__wrapped__", None)
                table[op] = _python_raiser(op_name(op.overloadpacket))
    for dotted in DECOMPOSITION_MODULES:
        module = importlib.import_module(dotted)
        for name, value in list(vars(module).items()):
            if id(value) in found or id(getattr(value, "__wrapped__", None)) in found:
                setattr(module, name, _python_raiser(f"torch's Python {name}"))
    return len(found)


def _python_raiser(name: str):
    kernel = _raiser(name)
    disabling_kernels.append(kernel)
    return kernel


def _keep_forever(module) -> None:
    """Keep a registration alive with no Python reference to it: it is not tracked by the garbage
    collector, so no Python code can find it to reset it and bring torch's kernel back."""
    import ctypes

    ctypes.pythonapi.Py_IncRef(ctypes.py_object(module))


def builtin_kernels_disabled() -> bool:
    """Whether torch's convolution is still refused here (learner code could destroy the libraries)."""
    hits = len(disabled_kernel_hits)
    try:
        torch.ops.aten.convolution(torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1), None,
                                   [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    except RuntimeError:
        return len(disabled_kernel_hits) > hits
    finally:
        del disabled_kernel_hits[hits:]
    return False


#: Grows once, the first time a check runs on meta in this process (growing is no change to the
#: engine snapshot the grader's run compares).
_spared: set = set()


def spare_dynamo_import() -> None:
    """`skip_dynamo_import`, once per process, before the first check on meta: a learner's first
    check then answers in a third of a second, not one. Not where torch._dynamo is already imported
    (someone compiles here: their wrappers are left as torch made them)."""
    if not _spared:
        _spared.add("dynamo")
        if "torch._dynamo" not in sys.modules:
            skip_dynamo_import()


def skip_dynamo_import() -> int:
    """Spare this process torch._dynamo's import (~1.8 s) on the first op on meta tensors.

    torch's Python meta kernels (``torch._refs``) are wrapped by ``torch._compile._disable_dynamo``,
    which imports torch._dynamo on first call only to keep ``torch.compile`` from tracing them.
    Where nothing compiles (the grader's run of a learner's functions), each wrapper is told it is
    already disabled. Returns how many wrappers were set."""
    import gc
    import types

    inner = next((c for c in torch._compile._disable_dynamo.__code__.co_consts
                  if isinstance(c, types.CodeType) and c.co_name == "inner"), None)
    if inner is None or "fn" not in inner.co_freevars:
        return 0
    count = 0
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and obj.__code__ is inner:
            fn = obj.__closure__[inner.co_freevars.index("fn")].cell_contents
            if getattr(fn, "__dynamo_disable", None) is None:
                fn.__dynamo_disable = fn
                count += 1
    return count

"""Argument handling shared by every kernel: int-or-tuple normalisation and validation with clear messages.

Each check raises ``ValueError`` (bad argument value) or ``RuntimeError`` (tensors that do not fit
together, as torch does) with a message that starts with the operation's name and names the
offending argument and its value, e.g. ``conv2d: stride must be positive, got stride=(0, 1)``.
"""
from __future__ import annotations

import operator

import torch

__all__ = [
    "ntuple",
    "positive",
    "non_negative",
    "window_args",
    "fitted_shape",
    "check_tensor",
    "check_input_dim",
    "add_batch_dim",
    "check_conv_weight",
    "check_bias",
]


def _show(value) -> str:
    """A value as it appears in messages: tuples and lists keep their brackets, tensors show a shape."""
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}"
    return repr(value)


def ntuple(value, n: int, name: str, op: str | None = None, item=operator.index) -> tuple:
    """``value`` as an ``n``-tuple of ints: an int is repeated, a sequence of 1 or ``n`` ints is kept.

    Accepting a 1-element sequence follows torch, which expands ``stride=[2]`` for conv2d. ``item``
    converts each entry (``operator.index``: ints only); ``shapes`` passes entries that may be
    (before, after) pairs through unchanged and checks them itself.
    """
    prefix = f"{op}: " if op else ""
    wrong = f"{prefix}{name} must be an int or a tuple of {n} ints, got {name}="
    if isinstance(value, torch.Tensor):
        raise ValueError(wrong + _show(value))
    if isinstance(value, (tuple, list, torch.Size)):
        items = tuple(value)
        if len(items) == 1:
            items = items * n
        if len(items) != n:
            raise ValueError(wrong + repr(value))
    else:
        items = (value,) * n
    try:
        return tuple(item(v) for v in items)
    except TypeError:
        raise ValueError(wrong + repr(value)) from None


def positive(value, n: int, name: str, op: str) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple whose entries are all >= 1 (stride, dilation, kernel_size), else ValueError."""
    items = ntuple(value, n, name, op)
    if any(v < 1 for v in items):
        raise ValueError(f"{op}: {name} must be positive, got {name}={items!r}")
    return items


def non_negative(value, n: int, name: str, op: str) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple whose entries are all >= 0 (padding, output_padding), else ValueError."""
    items = ntuple(value, n, name, op)
    if any(v < 0 for v in items):
        raise ValueError(f"{op}: {name} must be non-negative, got {name}={items!r}")
    return items


def window_args(op: str, n: int, kernel_size, stride, padding, dilation):
    """(kernel_size, stride, padding, dilation) of an ``n``-D window op (pooling, unfold, fold) as checked
    ``n``-tuples: kernel_size, stride and dilation positive, padding non-negative."""
    return (positive(kernel_size, n, "kernel_size", op), positive(stride, n, "stride", op),
            non_negative(padding, n, "padding", op), positive(dilation, n, "dilation", op))


def fitted_shape(op: str, formula, size, **arguments) -> tuple[int, ...]:
    """``formula(size, **arguments)`` (one of ``shapes.*_shape``), or a ValueError that names ``op``,
    the spatial ``size`` and every argument with its value, after the formula's own reason."""
    size = tuple(size)
    try:
        return formula(size, **arguments)
    except ValueError as error:
        named = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
        raise ValueError(f"{op}: spatial size {size} gives no output for {named} ({error})") from None


def check_tensor(value, name: str, op: str) -> torch.Tensor:
    """``value`` is a ``torch.Tensor``, else ValueError naming what it is."""
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{op}: {name} must be a torch.Tensor, got {name} of type {type(value).__name__}")
    return value


def check_input_dim(input: torch.Tensor, spatial_dims: int, op: str, name: str = "input") -> None:
    """``input`` is (C, *spatial) unbatched or (N, C, *spatial) batched, else RuntimeError."""
    check_tensor(input, name, op)
    if input.dim() not in (spatial_dims + 1, spatial_dims + 2):
        raise RuntimeError(f"{op}: expected {name} to be {spatial_dims + 1}-D (unbatched) or "
                           f"{spatial_dims + 2}-D (batched), got {input.dim()}-D {name} of shape {tuple(input.shape)}")


def add_batch_dim(input: torch.Tensor, spatial_dims: int, op: str, name: str = "input") -> tuple[torch.Tensor, bool]:
    """Check the rank and give ``input`` a batch dimension; also report whether it had none.

    Kernels work on (N, C, *spatial) only and squeeze the batch back out at the end when the
    second value is True, the one place unbatched input is handled.
    """
    check_input_dim(input, spatial_dims, op, name)
    if input.dim() == spatial_dims + 1:
        return input.unsqueeze(0), True  # (1, C, *spatial)
    return input, False


def check_conv_weight(input: torch.Tensor, weight: torch.Tensor, groups: int, spatial_dims: int, op: str,
                      transposed: bool = False) -> int:
    """``weight`` fits ``input`` (batched) and ``groups``; returns the number of output channels.

    Convolution weights are (C_out, C_in / groups, *k); transposed ones are (C_in, C_out / groups, *k).
    """
    check_tensor(weight, "weight", op)
    if weight.dim() != spatial_dims + 2:
        raise RuntimeError(f"{op}: expected weight to be {spatial_dims + 2}-D, got {weight.dim()}-D weight "
                           f"of shape {tuple(weight.shape)}")
    try:
        g = operator.index(groups)
    except TypeError:
        raise ValueError(f"{op}: groups must be an int, got groups={groups!r}") from None
    if g < 1:
        raise ValueError(f"{op}: groups must be positive, got groups={groups!r}")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input and weight must have the same dtype, got input {input.dtype} "
                           f"and weight {weight.dtype}")
    if input.device != weight.device:
        raise RuntimeError(f"{op}: input and weight must be on the same device, got input on {input.device} "
                           f"and weight on {weight.device}")
    if any(k < 1 for k in weight.shape[2:]):
        raise RuntimeError(f"{op}: weight must have a positive kernel size, got weight of shape "
                           f"{tuple(weight.shape)}")
    return (_transposed_out_channels if transposed else _out_channels)(input, weight, g, op)


def _transposed_out_channels(input: torch.Tensor, weight: torch.Tensor, g: int, op: str) -> int:
    """A transposed weight (C_in, C_out / groups, *k) fits `input`; its output channels."""
    channels = input.shape[1]
    if weight.shape[0] != channels:
        raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} expects {weight.shape[0]} input "
                           f"channels (weight.shape[0]), got input of shape {tuple(input.shape)} with "
                           f"{channels} channels")
    if channels % g:
        raise RuntimeError(f"{op}: input channels must be divisible by groups, got {channels} channels "
                           f"and groups={g}")
    return weight.shape[1] * g


def _out_channels(input: torch.Tensor, weight: torch.Tensor, g: int, op: str) -> int:
    """A weight (C_out, C_in / groups, *k) fits `input`; its output channels."""
    channels = input.shape[1]
    if weight.shape[0] < 1:
        raise RuntimeError(f"{op}: weight must have at least one output channel, got weight of shape "
                           f"{tuple(weight.shape)}")
    if weight.shape[0] % g:
        raise RuntimeError(f"{op}: out_channels (weight.shape[0]={weight.shape[0]}) must be divisible by groups, "
                           f"got groups={g}")
    if weight.shape[1] * g != channels:
        raise RuntimeError(f"{op}: weight of shape {tuple(weight.shape)} with groups={g} expects "
                           f"{weight.shape[1] * g} input channels, got input of shape {tuple(input.shape)} "
                           f"with {channels} channels")
    return weight.shape[0]


def check_bias(bias, input: torch.Tensor, out_channels: int, op: str) -> None:
    """``bias`` is None or a 1-D tensor of ``out_channels`` values with the input's dtype and device."""
    if bias is None:
        return
    check_tensor(bias, "bias", op)
    if bias.dim() != 1 or bias.shape[0] != out_channels:
        raise RuntimeError(f"{op}: expected bias of shape ({out_channels},) (one per output channel), "
                           f"got bias of shape {tuple(bias.shape)}")
    if bias.dtype != input.dtype:
        raise RuntimeError(f"{op}: input and bias must have the same dtype, got input {input.dtype} "
                           f"and bias {bias.dtype}")
    if bias.device != input.device:
        raise RuntimeError(f"{op}: input and bias must be on the same device, got input on {input.device} "
                           f"and bias on {bias.device}")

"""`pad`: torch.nn.functional.pad built from slicing and index_select (lesson 02)."""
import torch

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the trailing dims of `input`, as `F.pad` does.

    `pad` lists (left, right) pairs starting from the last dimension: (1, 2, 3, 4) pads the last
    dim by 1 before and 2 after, the one before it by 3 and 4.
    """
    pads = _check_pad(input, pad)
    if not isinstance(mode, str):
        raise TypeError(f"pad: mode must be a str, got {mode!r}")
    if mode not in _MODES:
        raise NotImplementedError(f"pad: unrecognised mode={mode!r}; expected one of {_MODES}")
    if mode == "constant":
        return _constant(input, pads, 0 if value is None else value)
    if value is not None and value != 0:
        raise ValueError(f"pad: mode={mode!r} doesn't take a value argument, got value={value!r}")
    _check_non_constant(input, pads, mode)
    index_fn = {"reflect": _reflect_index, "replicate": _replicate_index,
                "circular": _circular_index}[mode]
    out = input
    for dim, (left, right) in zip(range(input.dim() - 1, -1, -1), pads):
        index = index_fn(left, input.shape[dim], right, input.device)
        out = out.index_select(dim, index)
    return out


def _check_pad(input, pad):
    """Return `pad` as a list of (left, right) pairs, last dimension first."""
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(p, int) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got pad={pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: the length of pad must be divisible by 2, got pad={tuple(pad)}")
    if len(pad) > 2 * input.dim():
        raise ValueError(f"pad: pad={tuple(pad)} has length {len(pad)}, more than two times the "
                         f"input's {input.dim()} dimensions (input.shape={tuple(input.shape)})")
    return [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]


def _constant(input, pads, value):
    """Crop where a pad is negative, then copy into a tensor filled with `value`."""
    cropped = input
    out_shape = list(input.shape)
    out_slices = [slice(None)] * input.dim()
    for dim, (left, right) in zip(range(input.dim() - 1, -1, -1), pads):
        size = input.shape[dim]
        new_size = size + left + right
        if new_size < 0:
            raise ValueError(f"pad: pad={(left, right)} on dimension {dim} of size {size} gives a "
                             f"negative output size {new_size} (input.shape={tuple(input.shape)})")
        start, stop = max(-left, 0), size - max(-right, 0)
        if stop < start:
            raise ValueError(f"pad: pad={(left, right)} crops more than the {size} elements of "
                             f"dimension {dim} (input.shape={tuple(input.shape)})")
        cropped = cropped.narrow(dim, start, stop - start)
        out_shape[dim] = new_size
        out_slices[dim] = slice(max(left, 0), max(left, 0) + cropped.shape[dim])
    out = input.new_full(out_shape, value)
    out[tuple(out_slices)] = cropped
    return out


def _check_non_constant(input, pads, mode):
    """Reject what torch rejects for reflect/replicate/circular, naming the argument."""
    n = len(pads)
    if input.dim() not in (n + 1, n + 2) or n > 3:
        raise NotImplementedError(
            f"pad: mode={mode!r} with {2 * n} pad values needs a {n + 1}D (unbatched) or "
            f"{n + 2}D (batched) input, got input.shape={tuple(input.shape)}")
    dims = range(input.dim() - 1, input.dim() - 1 - n, -1)
    out_sizes = [input.shape[dim] + left + right for dim, (left, right) in zip(dims, pads)]
    if any(size < 0 for size in out_sizes):
        raise ValueError(f"pad: pad={_flat(pads)} gives a negative output size {out_sizes[::-1]} "
                         f"for input.shape={tuple(input.shape)}")
    if mode == "circular":
        for dim, (left, right), out_size in zip(dims, pads, out_sizes):
            size = input.shape[dim]
            if left > size or right > size:
                raise ValueError(f"pad: mode='circular' pad={_flat(pads)} wraps around more than "
                                 f"once: dimension {dim} has only {size} elements")
            if out_size > 0 and size + min(left, 0) + min(right, 0) < 1:
                raise ValueError(f"pad: mode='circular' pad={_flat(pads)} crops all {size} elements "
                                 f"of dimension {dim} and then pads it: nothing is left to wrap around")
        return
    non_batch = input.shape[1:] if input.dim() == n + 2 else input.shape
    if 0 in non_batch:
        raise ValueError(f"pad: mode={mode!r} needs non-zero sizes in every dimension but the "
                         f"batch one, got input.shape={tuple(input.shape)}")
    for dim, (left, right) in zip(dims, pads):
        if mode == "reflect" and (left >= input.shape[dim] or right >= input.shape[dim]):
            raise ValueError(f"pad: mode='reflect' needs each pad smaller than the dimension it pads, "
                             f"got pad={(left, right)} for dimension {dim} of size {input.shape[dim]}")
    if all(size < 1 for size in out_sizes):  # torch allows an empty dim if another one is not
        raise ValueError(f"pad: pad={_flat(pads)} leaves no output: output size {out_sizes[::-1]} "
                         f"for input.shape={tuple(input.shape)}")


def _flat(pads):
    """The (left, right) pairs back as the flat tuple the caller passed."""
    return tuple(p for pair in pads for p in pair)


def _reflect_index(left, size, right, device):
    """Source index of each output position: mirror at both edges, edge not repeated."""
    j = torch.arange(-left, size + right, device=device)
    return (size - 1) - ((size - 1) - j.abs()).abs()


def _replicate_index(left, size, right, device):
    """Source index of each output position: the nearest edge element."""
    return torch.arange(-left, size + right, device=device).clamp(0, size - 1)


def _circular_index(left, size, right, device):
    """Source index of each output position: wrap around what is left after cropping."""
    start = max(-left, 0)
    kept = size - start - max(-right, 0)  # elements left after cropping
    if kept < 1:  # an empty output (checked before): nothing to index
        return torch.arange(0, device=device)
    j = torch.arange(-max(left, 0), kept + max(right, 0), device=device)
    return start + j.remainder(kept)

"""Checks for lesson 11 (a small CNN): shape tracing from the size formulas, and the LeNet model's values and gradients."""
import torch
import torch.nn.functional as F
from torch import nn

from convlab import shapes
from convlab.checks import references as ref
from convlab.checks.compare import compare
from convlab.checks.core import Case, CheckFailed, Exercise, NamedParts
from convlab.checks.problems import Kind, Problem
from convlab.checks.questions import Question
from convlab.i18n import N_, _

LENET_SHAPES = ((6, 1, 3, 3), (6,), (16, 6, 3, 3), (16,), (120, 576), (120,), (84, 120), (84,), (10, 84), (10,))
LENET_NAMES = ("conv1 weight", "conv1 bias", "conv2 weight", "conv2 bias", "fc1 weight", "fc1 bias",
               "fc2 weight", "fc2 bias", "fc3 weight", "fc3 bias")


def lenet_description():
    """The lesson's model as torch layers on the meta device (a description: nothing is computed)."""
    meta = {"device": "meta"}
    return [nn.Conv2d(1, 6, 3, **meta), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 3, **meta), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(576, 120, **meta), nn.ReLU(), nn.Linear(120, 84, **meta),
            nn.ReLU(), nn.Linear(84, 10, **meta)]


def traced_shapes(layers, input_shape):
    """torch's per-image shape after each layer, from running the layers on a meta batch of one."""
    x = torch.empty((1, *input_shape), device="meta")
    shapes = []
    for layer in layers:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    return tuple(shapes)


def _short(layer):
    """'Conv2d(3→8, k=3, stride=2, padding=1)': the layer's non-default settings, to find it in feedback."""
    def one(value):
        return value[0] if isinstance(value, tuple) and len(set(value)) == 1 else value

    if isinstance(layer, nn.Conv2d):
        text = f"Conv2d({layer.in_channels}→{layer.out_channels}, k={one(layer.kernel_size)}"
        defaults = {"stride": 1, "padding": 0, "dilation": 1}
    elif isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        text = f"{type(layer).__name__}(k={one(layer.kernel_size)}"
        defaults = {"stride": layer.kernel_size, "padding": 0, "dilation": 1, "ceil_mode": False}
    elif isinstance(layer, nn.Linear):
        return f"Linear({layer.in_features}→{layer.out_features})"
    else:
        return f"{type(layer).__name__}()"
    for name, default in defaults.items():
        value = one(getattr(layer, name, default))
        if value != one(default):
            text += f", {name}={value}"
    return text + ")"


class ShapeTrace(Exercise):
    """shape_trace(layers, input_shape) -> shapes: the per-image shape after each layer, from the formulas alone."""

    references = ref.MODELS

    def _layer(self, draw, shape):
        """A random next layer that fits `shape`, or None."""
        c, h, w = shape
        kind = draw.choice(("conv", "conv", "max", "avg", "relu"))
        meta = {"device": "meta"}
        if kind == "conv":
            k, s, p, d = draw.int(1, 5), draw.int(1, 3), draw.int(0, 2), draw.int(1, 2)
            layer = nn.Conv2d(c, draw.int(1, 16), (k, draw.int(1, 5)) if draw.bool() else k, s, p, d, **meta)
        elif kind in ("max", "avg"):
            k = draw.int(2, 3)
            stride = None if draw.bool() else draw.int(1, 3)
            p, ceil = draw.int(0, k // 2), draw.bool()
            layer = (nn.MaxPool2d(k, stride, p, draw.int(1, 2), ceil_mode=ceil) if kind == "max"
                     else nn.AvgPool2d(k, stride, p, ceil_mode=ceil))
        else:
            layer = nn.ReLU()
        try:
            traced_shapes([layer], shape)
        except RuntimeError:  # the input is too small for it
            return None
        return layer

    def make_case(self, draw, i):
        if i == 0:
            layers, shape = lenet_description(), (1, 32, 32)
        else:
            shape = (draw.int(1, 3), draw.int(8, 40), draw.int(8, 40))
            layers, current = [], shape
            for _unused in range(draw.int(2, 6)):
                layer = self._layer(draw, current)
                if layer is not None:
                    layers.append(layer)
                    current = traced_shapes([layer], current)[-1]
            if draw.bool() or i % 3 == 1:
                layers.append(nn.Flatten())
                features = current[0] * current[1] * current[2]
                for _unused in range(draw.int(1, 2)):
                    out = draw.int(2, 64)
                    layers += [nn.Linear(features, out, device="meta"), nn.ReLU()]
                    features = out
                layers.pop()
        description = _("input_shape={shape}, {count} layers").format(shape=shape, count=len(layers))
        return Case((layers, shape), description=description)

    def reference(self, layers, input_shape):
        return traced_shapes(layers, input_shape)

    def judge_output(self, run, case, ref, where=None):
        problem = super().judge_output(run, case, ref, where)
        out = run.output
        if problem is None or not isinstance(out, (tuple, list)):
            return problem
        if len(out) != len(ref):
            return Problem(Kind.WRONG_RETURN, _("should return one shape per layer: {layers} layers, got "
                                                "{count} shapes.").format(layers=len(ref), count=len(out)))
        layers, before = case.args[0], (tuple(case.args[1]),) + tuple(ref)
        for i, (got, want) in enumerate(zip(out, ref)):
            if compare(got, want, None, None) is not None:
                shown = tuple(got) if isinstance(got, (tuple, list)) else got
                return Problem(Kind.WRONG_VALUES, _("after layer {index}, {layer} on {shape}: expected {expected}, "
                                                    "got {got}.").format(index=i + 1, layer=_short(layers[i]),
                                                                         shape=before[i], expected=want, got=shown),
                               f"layer {i + 1}")
        return problem


def lenet_reference(x, params):
    """torch's LeNet in float64: conv → ReLU → pool twice, then 576 → 120 → 84 → 10."""
    w1, b1, w2, b2, f1, g1, f2, g2, f3, g3 = params
    x = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)   # (N, 6, 15, 15)
    x = F.max_pool2d(F.relu(F.conv2d(x, w2, b2)), 2)   # (N, 16, 6, 6)
    x = x.flatten(1)                                    # (N, 576)
    x = F.relu(F.linear(x, f1, g1))
    x = F.relu(F.linear(x, f2, g2))
    return F.linear(x, f3, g3)                          # (N, 10)


class Model(NamedParts):
    """LeNet: an nn.Module from the course's kernels; its output and parameter gradients against torch's.

    The case fixes the parameter values (copied into the learner's model in registration order), a
    batch and an output gradient, so the forward value and every gradient can be compared.
    """

    arg_names = ("input", "grad_output")
    references = ref.MODELS
    default_cases = 2
    parts = ("output",) + tuple(f"gradient of {name}" for name in LENET_NAMES)

    def make_case(self, draw, i):
        dtype = draw.dtype(i)
        batch = 2 if i == 0 else draw.int(1, 2)
        params = []
        for shape in LENET_SHAPES:
            fan_in = shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1) if len(shape) > 1 else 10
            params.append(draw.randn(*shape, dtype=dtype) / fan_in ** 0.5)
        x = draw.randn(batch, 1, 32, 32, dtype=dtype)
        return Case((x, draw.randn(batch, 10, dtype=dtype), *params),
                   description=_("input ({batch}, 1, 32, 32)").format(batch=batch))

    def reference(self, x, grad_output, *params):
        leaves = [p.detach().clone().requires_grad_() for p in params]
        out = lenet_reference(x, leaves)
        out.backward(grad_output)
        return (out.detach(),) + tuple(p.grad for p in leaves)

    def prepare(self, fn):
        if not (isinstance(fn, type) and issubclass(fn, nn.Module)):
            raise CheckFailed(_("{name}: pass your class LeNet itself (an nn.Module subclass), "
                                "got {got}.").format(name=self.name, got=type(fn).__name__))

        def forward_and_backward(x, grad_output, *params):
            model = fn()
            mine = list(model.parameters())
            if len(mine) != len(params):
                raise TypeError(_("LeNet has {count} parameters, expected {expected}: {names}").format(
                    count=len(mine), expected=len(params), names=", ".join(LENET_NAMES)))
            for name, p, want in zip(LENET_NAMES, mine, params):
                if tuple(p.shape) != tuple(want.shape):
                    raise TypeError(_("parameter {name} has shape {shape}, expected {expected} (parameters must be "
                                      "created in the order listed in the exercise)").format(
                        name=name, shape=tuple(p.shape), expected=tuple(want.shape)))
            model = model.to(device=x.device, dtype=x.dtype)
            with torch.no_grad():
                for p, value in zip(model.parameters(), params):
                    p.copy_(value)
            out = model(x)
            if type(out) is not torch.Tensor:
                return out
            out.backward(grad_output)
            return (out,) + tuple(p.grad for p in model.parameters())

        return forward_and_backward


shape_trace = ShapeTrace()
model = Model()


# -- check your understanding ----------------------------------------------------------------
_DENSE = [(576, 120), (120, 84), (84, 10)]
lenet_parameters = Question(
    lambda: (shapes.conv_parameter_count(1, 6, (3, 3)) + shapes.conv_parameter_count(6, 16, (3, 3))
             + sum(i * o + o for i, o in _DENSE)),
    slips=((N_("the biases not counted: each layer has one per output"),
            lambda: (shapes.conv_parameter_count(1, 6, (3, 3), bias=False)
                     + shapes.conv_parameter_count(6, 16, (3, 3), bias=False) + sum(i * o for i, o in _DENSE))),
           (N_("the dense layers left out"), lambda: shapes.conv_parameter_count(1, 6, (3, 3))
            + shapes.conv_parameter_count(6, 16, (3, 3))),
           (N_("the convolutions left out"), lambda: sum(i * o + o for i, o in _DENSE))))


def _flatten(size):
    side = shapes.pool_output_size(shapes.conv_output_size(shapes.pool_output_size(shapes.conv_output_size(
        size, 3), 2), 3), 2)
    return 16 * side ** 2


flatten_size_28 = Question(
    lambda: _flatten(28),
    slips=((N_("that is for a 32 x 32 input: trace 28 through the layers"), lambda: _flatten(32)),
           (N_("the 16 channels left out: the vector holds every channel's map"), lambda: _flatten(28) // 16)))
conv2_macs = Question(
    lambda: shapes.conv_macs(6, 16, (3, 3), (15, 15)),
    slips=((N_("counted at every input pixel: a MAC count goes by output pixels (13 x 13)"),
            lambda: 6 * 16 * 3 * 3 * 15 * 15),
           (N_("the input channels not counted: each output sums over all 6"),
            lambda: shapes.conv_macs(1, 16, (3, 3), (15, 15)))))

"""Lesson 10 pictures: where the gradient of one output value goes, in the input and in the weights."""
import matplotlib.pyplot as plt
import torch

from convlab.i18n import _
from convlab.viz.describe import describe, shape
from convlab.viz.grid import draw_grid, figure, outline


def one_output_gradient(input_size=6, kernel_size=3, stride=1, row=0, col=0, seed=0):
    """Gradients of output[row, col] of a single-channel conv2d: (input, kernel, grad_input, grad_weight)."""
    from convlab.autograd import conv2d_backward
    from convlab.shapes import conv_output_size

    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 4, (1, 1, input_size, input_size), generator=g).double()
    w = torch.randint(-2, 3, (1, 1, kernel_size, kernel_size), generator=g).double()
    n_out = conv_output_size(input_size, kernel_size, stride)
    grad_output = torch.zeros(1, 1, n_out, n_out, dtype=torch.float64)
    grad_output[0, 0, row, col] = 1.0            # d(loss)/d(output) picks one output value
    grad_input, grad_weight, _grad_bias = conv2d_backward(x, w, grad_output, stride=stride)
    return x[0, 0], w[0, 0], grad_input[0, 0], grad_weight[0, 0]


def one_output_figure(input_size=6, kernel_size=3, stride=1, row=0, col=0):
    """Input and kernel, then d out[row, col] / d input (the kernel, pasted at the window) and / d weight (the window)."""
    x, w, gi, gw = one_output_gradient(input_size, kernel_size, stride, row, col)
    fig, axes = figure(4, width=3.0, height=3.3, ratios=[1, 0.6, 1, 0.6])
    top, left = row * stride, col * stride
    draw_grid(axes[0], x, title=_("input x"), cmap="coolwarm", vmin=-4, vmax=4)
    outline(axes[0], top, left, kernel_size, kernel_size)
    draw_grid(axes[1], w, title=_("kernel w"), cmap="coolwarm", vmin=-3, vmax=3)
    draw_grid(axes[2], gi, title=_("∂ out[{row},{col}] / ∂ x\n= w pasted on the window").format(row=row, col=col), cmap="coolwarm",
              vmin=-3, vmax=3)
    outline(axes[2], top, left, kernel_size, kernel_size)
    draw_grid(axes[3], gw, title=_("∂ out[{row},{col}] / ∂ w\n= the window of x").format(row=row, col=col), cmap="coolwarm", vmin=-4, vmax=4)
    return describe(fig, _("Input x {input} with the window of output [{row}, {col}] outlined (stride {stride}), "
                           "kernel w {kernel}, then the gradient of that output with respect to x, which is w pasted "
                           "on the window and zero elsewhere, and with respect to w, which is the window of x.").format(
        input=shape(x.shape), row=row, col=col, stride=stride, kernel=shape(w.shape)))


def gradient_explorer(input_size=6, kernel_size=3):
    """Sliders for stride and the chosen output: the input gradient moves with the window, the weight gradient copies it."""
    import ipywidgets as widgets

    from convlab.shapes import conv_output_size

    def show(stride=1, row=0, col=0):
        n_out = conv_output_size(input_size, kernel_size, stride)
        if row >= n_out or col >= n_out:
            print(_("with stride={stride} the output is only {n}×{n}: pick row, col < {n}").format(stride=stride, n=n_out))
            return
        one_output_figure(input_size, kernel_size, stride, row, col)
        plt.show()

    last = input_size - kernel_size
    return widgets.interact(show, stride=widgets.IntSlider(1, 1, 3, description=_("stride")),
                            row=widgets.IntSlider(0, 0, last, description=_("row")),
                            col=widgets.IntSlider(0, 0, last, description=_("col")))


def pool_backward_figure(x, kernel_size=2, stride=2):
    """A 2D input, an all-ones output gradient, and what max and average pooling send back to the input:
    max routes each output's gradient to its window's maximum (two overlapping windows add), average
    shares it equally, 1/k² to each input."""
    from convlab.functional import avg_pool2d, max_pool2d

    x = torch.as_tensor(x, dtype=torch.float64)
    out, indices = max_pool2d(x[None, None], kernel_size, stride, return_indices=True)
    ones = torch.ones_like(out)
    to_max = torch.zeros(x.numel(), dtype=torch.float64).index_add_(0, indices.flatten(), ones.flatten()).view(x.shape)
    xg = x[None, None].clone().requires_grad_(True)
    avg_pool2d(xg, kernel_size, stride).backward(ones)
    fig, axes = figure(3, width=3.4, height=3.6)
    draw_grid(axes[0], x, title=_("input {shape}\nkernel {k}, stride {stride}").format(shape=tuple(x.shape), k=kernel_size, stride=stride), cmap="Greys",
              vmin=float(x.min()) - 4, vmax=float(x.max()) + 1)
    for flat in indices.flatten().tolist():
        outline(axes[0], flat // x.shape[1], flat % x.shape[1], 1, 1, colour="tab:red", linewidth=2.5)
    draw_grid(axes[1], to_max, title=_("max pool's input gradient\n(1 per window it tops)"), cmap="Reds", vmin=0)
    draw_grid(axes[2], xg.grad[0, 0], title=_("average pool's input gradient\n(1/{area} per window)").format(area=kernel_size ** 2),
              cmap="Blues", vmin=0)
    said = dict(input=shape(x.shape), k=kernel_size, stride=stride, most=f"{float(to_max.max()):g}",
                area=kernel_size ** 2)
    if float(to_max.max()) > 1:
        return describe(fig, _("Input {input} (kernel {k}, stride {stride}) with each window's maximum outlined; "
                               "max pooling's input gradient, 1 from each window to its maximum, up to {most} where "
                               "windows share one; average pooling's, 1/{area} from each window to each of its "
                               "inputs.").format(**said))
    return describe(fig, _("Input {input} (kernel {k}, stride {stride}) with each window's maximum outlined; max "
                           "pooling's input gradient, 1 from each window to its maximum; average pooling's, 1/{area} "
                           "from each window to each of its inputs.").format(**said))


def learning_figure(kernels, losses, target):
    """A kernel learned by gradient descent, step by step: each weight against its target, and the loss."""
    kernels = torch.stack([torch.as_tensor(k, dtype=torch.float64).reshape(-1) for k in kernels])  # (steps+1, taps)
    target = torch.as_tensor(target, dtype=torch.float64).reshape(-1)
    fig, (ax_k, ax_l) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    for tap in range(kernels.shape[1]):
        line, = ax_k.plot(kernels[:, tap].numpy(), marker=".", label=f"K[{tap}]")
        ax_k.axhline(float(target[tap]), color=line.get_color(), linestyle=":", linewidth=1)
    ax_k.set_xlabel(_("step"))
    ax_k.set_ylabel(_("weight (dotted: the kernel that made Y)"))
    ax_k.legend(fontsize=8)
    ax_l.semilogy(losses, marker=".")
    ax_l.set_xlabel(_("step"))
    ax_l.set_ylabel(_("summed squared error (log)"))
    ax_l.set_title(_("loss"))
    return describe(fig, _("Left: each of the {taps} kernel weights over {steps} steps of gradient descent, its "
                           "target dotted; right: the loss, log scale, from {first} to {last}.").format(
        taps=kernels.shape[1], steps=kernels.shape[0] - 1, first=f"{float(losses[0]):.3g}",
        last=f"{float(losses[-1]):.3g}"))

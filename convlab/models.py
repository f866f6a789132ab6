"""A LeNet-style CNN built from the course's kernels, its layer-by-layer description, and a short training loop (lesson 11)."""
import math

import torch
from torch import nn

from convlab import functional as F
from convlab.autograd import Conv2dFunction
from convlab.i18n import _

__all__ = ["LeNet", "lenet_layers", "train"]


def lenet_layers():
    """The model as torch layers, a description for shape tracing: (1, 32, 32) -> 10 (Flatten keeps a batch dim)."""
    return [nn.Conv2d(1, 6, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(576, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]


def _parameter(*shape, fan_in):
    """A weight or bias drawn as torch's nn.Conv2d/nn.Linear do: uniform in ±1/sqrt(fan_in)."""
    bound = 1 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class LeNet(nn.Module):
    """conv 3×3 -> 6, pool 2, conv 3×3 -> 16, pool 2, then 576 -> 120 -> 84 -> num_classes.

    Convolutions go through `Conv2dFunction` (forward and backward from convlab), pooling through
    `convlab.functional.max_pool2d`; the dense layers are plain matrix multiplications.
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1_weight = _parameter(6, 1, 3, 3, fan_in=9)
        self.conv1_bias = _parameter(6, fan_in=9)
        self.conv2_weight = _parameter(16, 6, 3, 3, fan_in=54)
        self.conv2_bias = _parameter(16, fan_in=54)
        self.fc1_weight = _parameter(120, 576, fan_in=576)
        self.fc1_bias = _parameter(120, fan_in=576)
        self.fc2_weight = _parameter(84, 120, fan_in=120)
        self.fc2_bias = _parameter(84, fan_in=120)
        self.fc3_weight = _parameter(num_classes, 84, fan_in=84)
        self.fc3_bias = _parameter(num_classes, fan_in=84)

    def features(self, x):
        """The feature maps after each conv block: [(N, 6, 15, 15), (N, 16, 6, 6)]."""
        x = F.max_pool2d(torch.relu(Conv2dFunction.apply(x, self.conv1_weight, self.conv1_bias, 1, 0)), 2)
        first = x                                              # (N, 6, 15, 15)
        x = F.max_pool2d(torch.relu(Conv2dFunction.apply(x, self.conv2_weight, self.conv2_bias, 1, 0)), 2)
        return [first, x]                                      # second: (N, 16, 6, 6)

    def forward(self, x):
        x = self.features(x)[-1].flatten(1)                    # (N, 576)
        x = torch.relu(x @ self.fc1_weight.T + self.fc1_bias)  # (N, 120)
        x = torch.relu(x @ self.fc2_weight.T + self.fc2_bias)  # (N, 84)
        return x @ self.fc3_weight.T + self.fc3_bias           # (N, num_classes)


def train(model, images, labels, epochs=5, batch_size=25, lr=4e-3, seed=0):
    """Adam on cross-entropy; returns the loss of every batch, in order, for a loss curve.

    Runs on one CPU thread: with batches this small, handing work to other threads costs more
    than it saves, and on a busy machine it costs a great deal more.
    """
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    from convlab.viz.progress import Bar  # here: the model alone draws nothing, and imports no matplotlib

    bar = Bar(epochs * math.ceil(len(images) / batch_size), _("training"))
    try:
        for _epoch in range(epochs):
            order = torch.randperm(len(images), generator=g)
            for start in range(0, len(images), batch_size):
                idx = order[start:start + batch_size]
                loss = nn.functional.cross_entropy(model(images[idx]), labels[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                bar.step(losses[-1])
    finally:
        torch.set_num_threads(threads)
        bar.close()
    return losses

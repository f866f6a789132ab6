"""convlab.models and convlab.data: LeNet matches torch's layers, the shapes dataset is balanced and repeatable."""
import pytest
import torch
import torch.nn.functional as F

from convlab.checks.guard import KERNEL_OPS, forbid_builtin_kernels
from convlab.data import CLASSES, DIGIT_CLASSES, digits_split, load_digits, shapes_dataset
from convlab.models import LeNet, lenet_layers, train

pytestmark = pytest.mark.kernels


def torch_lenet(model, x):
    """The same network with torch's own layers and the model's parameters."""
    p = dict(model.named_parameters())
    x = F.max_pool2d(F.relu(F.conv2d(x, p["conv1_weight"], p["conv1_bias"])), 2)
    x = F.max_pool2d(F.relu(F.conv2d(x, p["conv2_weight"], p["conv2_bias"])), 2)
    x = F.relu(F.linear(x.flatten(1), p["fc1_weight"], p["fc1_bias"]))
    x = F.relu(F.linear(x, p["fc2_weight"], p["fc2_bias"]))
    return F.linear(x, p["fc3_weight"], p["fc3_bias"])


def test_lenet_matches_torch_in_values_and_gradients():
    torch.manual_seed(0)
    model = LeNet().double()
    x = torch.randn(3, 1, 32, 32, dtype=torch.float64)
    with forbid_builtin_kernels(KERNEL_OPS) as seen:
        out = model(x)
        out.sum().backward()
    assert not seen.ops, f"torch kernels used: {seen.ops}"
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    expected = torch_lenet(model, x)
    expected.sum().backward()
    assert out.shape == (3, 10)
    torch.testing.assert_close(out, expected)
    for mine, theirs in zip(ours, (p.grad for p in model.parameters())):
        torch.testing.assert_close(mine, theirs)


def test_lenet_shapes_and_parameter_count():
    model = LeNet()
    maps = model.features(torch.randn(2, 1, 32, 32))
    assert [tuple(m.shape) for m in maps] == [(2, 6, 15, 15), (2, 16, 6, 6)]
    reference = sum(p.numel() for layer in lenet_layers() for p in layer.parameters())
    assert sum(p.numel() for p in model.parameters()) == reference == 81194


def test_lenet_layers_trace_the_lesson_shapes():
    x = torch.empty(1, 1, 32, 32, device="meta")
    trace = []
    for layer in lenet_layers():
        x = layer.to("meta")(x)
        trace.append(tuple(x.shape[1:]))
    assert trace[:7] == [(6, 30, 30), (6, 30, 30), (6, 15, 15), (16, 13, 13), (16, 13, 13), (16, 6, 6), (576,)]
    assert trace[-1] == (10,)


def test_shapes_dataset_is_balanced_repeatable_and_in_range():
    images, labels = shapes_dataset(200, seed=3)
    again, _ = shapes_dataset(200, seed=3)
    other, _ = shapes_dataset(200, seed=4)
    assert images.shape == (200, 1, 32, 32) and images.dtype == torch.float32 and labels.dtype == torch.int64
    assert torch.bincount(labels, minlength=len(CLASSES)).tolist() == [20] * len(CLASSES)
    assert torch.equal(images, again) and not torch.equal(images, other)
    assert -1.5 < float(images.min()) and float(images.max()) < 2.5


def test_classes_differ_on_average():
    images, labels = shapes_dataset(400, seed=0, noise=0.0)
    means = torch.stack([images[labels == c].mean(0) for c in range(len(CLASSES))])  # (10, 1, 32, 32)
    distances = torch.cdist(means.flatten(1), means.flatten(1))
    assert float(distances[~torch.eye(len(CLASSES), dtype=bool)].min()) > 0.5


def test_a_short_training_run_lowers_the_loss():
    torch.manual_seed(0)
    images, labels = shapes_dataset(100, seed=0)
    threads = torch.get_num_threads()
    losses = train(LeNet(), images, labels, epochs=3, batch_size=25)
    assert torch.get_num_threads() == threads
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3


def test_bad_dataset_arguments_are_named():
    with pytest.raises(ValueError, match="n=0"):
        shapes_dataset(0)


def test_training_shows_a_bar_in_a_notebook_and_nothing_elsewhere(monkeypatch, capsys):
    import IPython.display

    from convlab import models
    from convlab.viz import progress

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    x, y = torch.randn(10, 1, 32, 32), torch.randint(0, 10, (10,))
    models.train(models.LeNet(), x, y, epochs=1, batch_size=5)
    assert shown == [] and capsys.readouterr().out == ""  # a terminal, or the grader: no output
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    losses = models.train(models.LeNet(), x, y, epochs=2, batch_size=5)
    [box] = shown
    bar, label = box.children
    assert (bar.value, bar.max, bar.bar_style) == (4, 4, "success")
    assert label.value == f"4/4, loss {losses[-1]:.3f}"
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # graded: the feedback page shows no bar
    models.train(models.LeNet(), x, y, epochs=1, batch_size=5)
    assert len(shown) == 1


def test_the_digits_are_the_uci_set_as_scikit_learn_ships_it():
    images, labels = load_digits()
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32 and labels.dtype == torch.int64
    assert 0 <= float(images.min()) and float(images.max()) == 1.0  # counts 0..16 over 16
    assert torch.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert len(DIGIT_CLASSES) == 10


def test_the_digits_split_holds_out_the_same_images_each_time_and_every_digit_alike():
    train_x, train_y, test_x, test_y = digits_split()
    assert (len(train_y), len(test_y)) == (1437, 360) and torch.bincount(test_y).tolist() == [36] * 10
    assert torch.equal(digits_split()[3], test_y) and not torch.equal(digits_split(seed=1)[2], test_x)
    with pytest.raises(ValueError, match="test_per_class must be between 1 and 173, got test_per_class=500"):
        digits_split(test_per_class=500)

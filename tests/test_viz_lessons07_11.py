"""Lesson 07-11 figures draw, and moving each explorer's sliders redraws without error."""
import matplotlib
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from convlab.viz import backprop, cnn, groups, im2col, transposed  # noqa: E402

pytestmark = pytest.mark.notebooks


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lesson07_figures():
    X, K = torch.arange(25.0).reshape(5, 5), torch.randn(3, 3)
    assert len([ax for ax in im2col.im2col_figure(X, K).axes if ax.get_label() != "<colorbar>"]) == 4
    fig = im2col.conv_matrix_figure(K, (5, 5))
    assert "9×25" in fig.axes[0].get_title()
    assert "25×9" in im2col.conv_matrix_figure(K, (5, 5), transpose=True).axes[0].get_title()
    im2col.timing_figure({"loops": 0.1, "im2col": 1e-3, "torch": 1e-4})


def test_lesson08_connectivity_is_block_diagonal():
    C = groups.connectivity(4, 6, 2)
    assert C.shape == (6, 4)
    assert C[:3, :2].all() and C[3:, 2:].all() and not C[:3, 2:].any() and not C[3:, :2].any()
    with pytest.raises(ValueError, match="groups=3"):
        groups.connectivity(4, 6, 3)
    groups.connectivity_figure(8, 8, 4)
    sobel = torch.tensor([[1.0], [2.0], [1.0]]) @ torch.tensor([[-1.0, 0.0, 1.0]])
    groups.separable_figure(sobel, sobel[:, :1], torch.tensor([[-1.0, 0.0, 1.0]]))
    groups.singular_values_figure({"sobel": sobel, "eye": torch.eye(3)})


def test_lesson09_scatter_add_is_conv_transpose2d():
    X, K = torch.randn(3, 2, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    for stride in (1, 2):
        out, pieces = transposed.scatter_add(X, K, stride)
        expected = torch.nn.functional.conv_transpose2d(X[None, None], K[None, None], stride=stride)[0, 0]
        torch.testing.assert_close(out, expected)
        assert len(pieces) == X.numel()
    counts = transposed.overlap(4, 3, 2)
    assert counts.max() == 4 and counts.min() == 1       # uneven overlap: the checkerboard
    assert set(transposed.overlap(4, 4, 2)[2:-2, 2:-2].unique().tolist()) == {4.0}
    transposed.scatter_figure(X[:2, :2], K[:2, :2])
    transposed.checkerboard_figure()


def test_lesson10_one_output_gradient_is_the_kernel_and_the_window():
    x, w, gi, gw = backprop.one_output_gradient(input_size=6, kernel_size=3, stride=2, row=1, col=0)
    torch.testing.assert_close(gi[2:5, 0:3], w)
    assert gi.abs().sum() == w.abs().sum()
    torch.testing.assert_close(gw, x[2:5, 0:3])
    backprop.one_output_figure(6, 3, 1, 1, 2)


def test_lesson11_figures():
    from convlab.data import CLASSES, shapes_dataset
    from convlab.models import LeNet

    images, labels = shapes_dataset(20)
    model = LeNet()
    cnn.samples_figure(images, labels, CLASSES)
    cnn.loss_figure([2.3, 2.0, 1.5, 1.2], batches_per_epoch=2)
    cnn.filters_figure(next(model.parameters()))
    with torch.no_grad():
        cnn.feature_maps_figure(images[0], model.features(images[:1])[1][0])


def _move_every_slider(interactive):
    for child in interactive.children:
        if hasattr(child, "options") and child.options:
            child.value = child.options[-1]
        elif hasattr(child, "max"):
            child.value = child.max
            child.value = child.min


@pytest.mark.parametrize("explorer", [
    lambda: im2col.conv_matrix_explorer(),
    lambda: groups.groups_explorer(8, 8, 3),
    lambda: transposed.output_size_explorer(),
    lambda: backprop.gradient_explorer(),
])
def test_explorers_redraw_when_sliders_move(explorer):
    pytest.importorskip("ipywidgets")
    _move_every_slider(explorer().widget)


def test_feature_map_explorer_redraws():
    pytest.importorskip("ipywidgets")
    from convlab.data import CLASSES, shapes_dataset
    from convlab.models import LeNet

    images, labels = shapes_dataset(10)
    plt.close("all")
    explorer = cnn.feature_map_explorer(LeNet(), images, labels, CLASSES)
    title = plt.gcf()._suptitle.get_text()  # the first example's figure: its class, the model's guess, the block
    assert title.startswith(f"{CLASSES[int(labels[0])]} (model says: ") and "block 1" in title, title
    _move_every_slider(explorer.widget)


def test_lesson11_filters_have_a_colour_scale():
    fig = cnn.filters_figure(torch.randn(6, 1, 3, 3))
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    plt.close(fig)


def _red_outlines(fig):
    return [(p.get_xy(), p.get_width(), p.get_height()) for ax in fig.axes for p in ax.patches
            if matplotlib.colors.same_color(p.get_edgecolor(), "tab:red")]


def test_lesson06_window_slider_stops_at_the_last_window():
    from convlab.viz.pooling import show_pooling

    X = torch.arange(16.0).reshape(4, 4)
    last = show_pooling(X, 2, 2, 0, False, "max", 3)      # 2 x 2 output: windows 0..3
    past = show_pooling(X, 2, 2, 0, False, "max", 5)      # the slider goes further (5 % 4 would wrap to 1)
    assert _red_outlines(past) == _red_outlines(last) and _red_outlines(last)
    plt.close("all")


@pytest.mark.parametrize("stride, padding, size", [(1, 0, 3), (2, 0, 3), (2, 1, 4), (3, 1, 2)])
def test_lesson09_zero_insertion_then_flipped_correlation_is_conv_transpose2d(stride, padding, size):
    X, K = torch.randn(size, size, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    grid, original = transposed.zero_insertion(X, stride, padding, 3)
    view2 = torch.nn.functional.conv2d(grid[None, None], K.flip(0, 1)[None, None])[0, 0]
    expected = torch.nn.functional.conv_transpose2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]
    assert torch.allclose(view2, expected) and int(original.sum()) == size * size
    plt.close(transposed.zero_insertion_figure(X, K, stride, padding))


def test_lesson12_figures():
    from convlab.viz import dims

    fig = dims.signal_figure(torch.randn(16), [1.0, 0.0, -1.0], at=5)
    assert "16 - 3 + 1 = 14" in fig.axes[2].get_title()
    fig = dims.clip_figure(torch.randn(8, 12, 12), kernel_size=3, frame=2)
    assert [ax.title.get_color() for ax in fig.axes].count("tab:red") == 3  # the frames the window spans
    plt.close("all")


def test_signed_grids_are_diverging_and_centred_with_a_colour_bar():
    from convlab.viz.grid import DIVERGING, draw_grid

    fig, (signed, plain) = plt.subplots(1, 2)
    draw_grid(signed, [[1.0, -3.0], [2.0, 0.0]], cmap="Oranges")
    draw_grid(plain, [[1.0, 3.0], [2.0, 0.0]], cmap="Oranges")
    image = signed.images[0]
    assert image.get_cmap().name == DIVERGING and image.get_clim() == (-3.0, 3.0)
    assert plain.images[0].get_cmap().name == "Oranges"
    assert sum(ax.get_label() == "<colorbar>" for ax in fig.axes) == 1
    plt.close(fig)

"""The picture under a failing tensor check: which slice it shows, its scales, and where it appears."""
import matplotlib
import pytest
import torch

from convlab.checks import CheckFailed
from convlab.checks import lesson01 as check
from convlab.checks.show import in_notebook
from convlab.viz.failure import MAX_SIDE, failure_figure, worst_slice

matplotlib.use("Agg")


def test_the_slice_shown_holds_the_largest_error():
    want = torch.zeros(2, 3, 5, 6)
    got = want.clone()
    got[1, 2, 3, 4] = 5.0
    got[0, 0, 0, 0] = 1.0
    shown, torchs, where = worst_slice(got, want)
    assert where == "output[1, 2, :, :]" and shown[3, 4] == 5.0 and torchs.shape == (5, 6)


def test_a_large_map_is_cut_around_its_largest_error():
    want = torch.zeros(200, 150)
    got = want.clone()
    got[190, 10] = 1.0
    fig = failure_figure(got, want, "case 1")
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (MAX_SIDE, MAX_SIDE) and "rows 136..199, columns 0..63" in fig._suptitle.get_text()


def test_signed_values_use_a_diverging_scale_centred_on_zero():
    want = torch.tensor([[-2.0, 1.0], [0.5, 3.0]])
    fig = failure_figure(want + 1, want, "case 1")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert all(image.get_cmap().name == "RdBu_r" and image.norm.vcenter == 0.0 for image in images)


def test_outside_a_notebook_a_failing_check_shows_no_picture(monkeypatch):
    assert not in_notebook()
    shown = []
    monkeypatch.setattr("convlab.viz.failure.failure_figure", lambda *a: shown.append(a))

    def flipped(X, K):
        windows = X.unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)
        return (windows * K.flip(0, 1)).sum(dim=(-2, -1))

    with pytest.raises(CheckFailed, match="kernel flipped"):
        check.corr2d(flipped)
    assert shown == []

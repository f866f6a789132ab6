"""Lesson 11's LeNet on the learner's own lesson 08 conv2d and lesson 10 Conv2dFunction, or the reference."""
import shutil
from pathlib import Path

import pytest
import torch

import convlab.functional as cf
from convlab import yours

ROOT = Path(__file__).resolve().parents[1]


def _course(where: Path, folder: str) -> Path:
    for notebook in (yours.LESSON_08, yours.LESSON_10):
        (where / notebook).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / folder / notebook, where / notebook)
    return where


def test_written_and_checked_lessons_run_forward_and_backward_on_the_learners_code(tmp_path):
    conv2d, which = yours.choose(_course(tmp_path, "solutions"))
    assert which.startswith("your conv2d (lesson 08)")
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)
    out = conv2d(x, w, None, 1, 1)
    assert type(out.grad_fn).__name__.endswith("Conv2dFunctionBackward")  # autograd goes through theirs
    assert torch.allclose(out, torch.nn.functional.conv2d(x, w, padding=1))
    grads = torch.autograd.grad(out.sum(), (x, w))
    expected = torch.autograd.grad(torch.nn.functional.conv2d(x, w, padding=1).sum(), (x, w))
    assert all(torch.allclose(a, b) for a, b in zip(grads, expected))


def test_unanswered_lessons_leave_the_reference_and_say_why(tmp_path):
    conv2d, which = yours.choose(_course(tmp_path, "lessons"))
    assert conv2d is cf.conv2d and "reference" in which and "not answered yet" in which


def test_without_the_notebooks_it_is_the_reference(tmp_path):
    conv2d, which = yours.choose(tmp_path)
    assert conv2d is cf.conv2d and "is not there" in which


@pytest.mark.parametrize("folder", ["solutions", "lessons"])
def test_no_test_cell_or_demo_of_the_learners_notebook_runs(tmp_path, folder, capsys):
    yours.definitions(_course(tmp_path, folder) / yours.LESSON_10)
    assert capsys.readouterr().out == ""


def test_lesson_11_says_how_to_run_on_your_own_kernels_where_it_runs_on_the_reference(tmp_path, capsys):
    yours.select_lenet_conv2d(tmp_path)
    out = capsys.readouterr().out
    assert "reference" in out and "To run it on yours" in out and str(tmp_path / yours.LESSON_08) in out
    yours.select_lenet_conv2d(_course(tmp_path, "solutions"))
    assert "To run it on yours" not in capsys.readouterr().out

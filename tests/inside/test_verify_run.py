"""The grader's run of the learner's cells treats notebook syntax as a notebook does: magics cost
no answer its points, and code that needs its own source (TorchScript) finds it."""
import torch

from autograder.inside.verify_run import _run_cells

BODY = "def corr2d(X, K):\n    kh, kw = K.shape\n    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))\n"
SCRIPTED = ("@torch.jit.script\ndef corr2d(X, K):\n    kh, kw = K.shape[0], K.shape[1]\n"
            "    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))\n")


def run(*sources):
    namespace = {"__name__": "__main__", "torch": torch}
    cells = [{"index": i, "source": source, "whole": True} for i, source in enumerate(sources)]
    return _run_cells(cells, namespace, 30), namespace


def test_magics_before_the_answer_leave_it_defined():
    for first in ("%matplotlib inline\n", "%%time\n", "%precision 3\n", "!echo hi\n"):
        errors, namespace = run(first + BODY)
        assert errors == [] and "corr2d" in namespace, (first, errors)
        x, k = torch.randn(5, 6), torch.randn(2, 3)
        assert torch.allclose(namespace["corr2d"](x, k), torch.nn.functional.conv2d(x[None, None], k[None, None])[0, 0],
                              atol=1e-5)


def test_torchscript_finds_the_cells_source():
    errors, namespace = run(SCRIPTED)
    assert errors == [], errors
    assert namespace["corr2d"](torch.ones(3, 3), torch.ones(2, 2)).tolist() == [[4.0, 4.0], [4.0, 4.0]]


def test_a_question_asked_cannot_give_its_answer_to_the_learners_code(monkeypatch):
    from autograder.inside.verify_run import withhold_answers
    from convlab.checks import lesson01

    for question in (lesson01.output_shape, lesson01.kernel_weights):  # put back after the test
        monkeypatch.setattr(question, "expected", question.expected)
        monkeypatch.setattr(question, "slips", question.slips)
    withhold_answers(["lesson01.output_shape", "not.a.question"])
    errors, _ = run("from convlab.checks import lesson01 as q\nanswer = q.output_shape.expected()")
    assert len(errors) == 1 and "cannot be read here" in errors[0]["error"]
    assert lesson01.output_shape.slips == () and lesson01.kernel_weights.expected() == 25  # only those asked

"""Feedback in the learner's language: every message from the gettext catalog, chosen by the
notebook's language or CONVLAB_LANG, none left untranslated."""
import json
import re

import pytest
import torch

from autograder.authoring import catalog
from convlab import i18n
from convlab.checks import lesson01, lesson08
from convlab.checks.compare import compare
from convlab.checks.core import CheckFailed, answer
from convlab.checks.problems import Kind

pytestmark = pytest.mark.grading

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_the_package_says_is_translated():
    assert len(catalog.extracted()) > 100
    assert catalog.problems("zh") == []


def _right(X, K):
    kh, kw = K.shape
    return (X.unfold(0, kh, 1).unfold(1, kw, 1) * K).sum(dim=(-2, -1))


def _not_answered(X, K):
    raise NotImplementedError()


def _banned(X, K):
    return torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0]


def _raises(X, K):
    raise ValueError("boom")


def _modifies(X, K):
    out = _right(X, K)
    X.add_(1)
    return out


def _wrong_device(X, K):
    return _right(X, K) + torch.zeros(1)


def _flipped(X, K):
    return _right(X, K.flip(0, 1))


LEARNERS = {Kind.NOT_ANSWERED: _not_answered, Kind.BANNED_KERNEL: _banned, Kind.EXCEPTION: _raises,
            Kind.MODIFIED_INPUT: _modifies, Kind.WRONG_DEVICE: _wrong_device, Kind.WRONG_VALUES: _flipped}


def failure(fn) -> str:
    with pytest.raises(CheckFailed) as caught:
        lesson01.corr2d(fn)
    return str(caught.value)


def compared(kind: Kind):
    ref = torch.zeros(2, 3, dtype=torch.float64)
    got = {Kind.WRONG_TYPE: [[0.0] * 3] * 2, Kind.WRONG_RETURN: (ref, ref), Kind.WRONG_DTYPE: ref.to(torch.float16),
           Kind.WRONG_SHAPE: torch.zeros(3, 2)}[kind]
    return compare(got, (ref,) if kind is Kind.WRONG_RETURN else ref, torch.float32, "cpu")


def messages(kind: Kind) -> str:
    """A message of `kind`, as a learner gets it, in the language now chosen."""
    if kind in LEARNERS:
        return failure(LEARNERS[kind])
    if kind is Kind.BANNED:
        from convlab import functional as cf

        return failure(lambda X, K: cf.corr2d(X, K))
    if kind is Kind.NO_EXCEPTION:
        with pytest.raises(CheckFailed) as caught:
            lesson08.separable_kernel(lambda kernel: (kernel[:, :1], kernel[:1]))
        return str(caught.value)
    problem = compared(kind)
    assert problem.kind is kind, problem
    return problem.text


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name)
def test_every_kind_of_feedback_comes_in_both_languages(kind, monkeypatch):
    monkeypatch.setenv(i18n.ENV, "en")
    english = messages(kind)
    monkeypatch.setenv(i18n.ENV, "zh")
    chinese = messages(kind)
    assert not CJK.search(english), english
    assert CJK.search(chinese) and chinese != english, chinese


def test_passes_and_questions_speak_the_language_too(monkeypatch, capsys):
    monkeypatch.setenv(i18n.ENV, "zh")
    lesson01.corr2d(_right)
    with pytest.raises(CheckFailed) as caught:
        answer("output_shape", (2, 2), (3, 3))
    assert CJK.search(capsys.readouterr().out) and CJK.search(str(caught.value))
    right = lesson01.output_shape.expected()
    lesson01.output_shape(right)
    assert CJK.search(capsys.readouterr().out)
    slip, gives = lesson01.output_shape.slips[0]  # the +1 forgotten
    with pytest.raises(CheckFailed) as caught:
        lesson01.output_shape(gives())
    assert i18n.translations("zh").gettext(slip) in str(caught.value), str(caught.value)
    assert not re.search(r"[A-Za-z]{4,}", str(caught.value).replace("output_shape", "")), str(caught.value)


def test_the_language_is_the_notebooks_unless_the_environment_says(monkeypatch, tmp_path):
    notebook = tmp_path / "lesson.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {"convlab": {"lang": "zh"}}, "nbformat": 4,
                                    "nbformat_minor": 5}))
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert i18n.language() == "en"
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))  # what JupyterLab gives the notebook's kernel
    assert i18n.language() == "zh"
    monkeypatch.setenv(i18n.ENV, "en")
    assert i18n.language() == "en"
    monkeypatch.setenv(i18n.ENV, "fr")
    with pytest.raises(ValueError, match="CONVLAB_LANG: no messages in 'fr'"):
        i18n.language()


def _notebook(path, lang):
    path.write_text(json.dumps({"cells": [], "metadata": {"convlab": {"lang": lang}} if lang else {},
                                "nbformat": 4, "nbformat_minor": 5}))
    return path


@pytest.fixture
def no_front_end(monkeypatch, tmp_path):
    """No language chosen and no front-end naming a notebook; the working directory a fresh folder."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_vs_code_names_the_notebook_in_the_kernels_namespace(no_front_end, monkeypatch):
    import IPython

    shell = type("Shell", (), {"user_ns": {"__vsc_ipynb_file__": str(_notebook(no_front_end / "a.ipynb", "zh"))}})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert i18n.language() == "zh"


@pytest.mark.parametrize("languages,expected", [(["zh"], "zh"), (["zh", "zh"], "zh"), (["zh", "en"], "en"),
                                                 ([None], "en"), ([], "en")])
def test_nbconvert_runs_a_notebook_in_its_folder_whose_notebooks_say_the_language(no_front_end, languages,
                                                                                    expected):
    for i, lang in enumerate(languages):
        _notebook(no_front_end / f"{i}.ipynb", lang)
    assert i18n.language() == expected


def test_a_chinese_lesson_speaks_chinese_under_plain_nbclient(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(metadata={"convlab": {"lang": "zh"}, "kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("from convlab.i18n import _\nprint(_('passed'))")]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, str(path))
    env = {k: v for k, v in __import__("os").environ.items() if k not in (i18n.ENV, "JPY_SESSION_NAME")}
    NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}}, kernel_name="python3",
                   timeout=120).execute(env=env)
    assert nb.cells[0].outputs[0]["text"].strip() == i18n.translations("zh").gettext("passed") != "passed"


def test_speaking_sets_the_language_for_a_block_and_puts_it_back(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    with i18n.speaking("zh"):
        assert i18n.language() == "zh"
    assert i18n.ENV not in __import__("os").environ
    monkeypatch.setenv(i18n.ENV, "en")
    with i18n.speaking("zh"):
        assert i18n.language() == "en"  # the learner's own choice wins


def test_chinese_figures_draw_every_glyph(recwarn):
    """The Chinese edition's font (from mplfonts) draws Chinese next to math; English figures keep theirs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from convlab.viz import fonts

    with matplotlib.rc_context():
        assert fonts.use_language_font("en") == matplotlib.rcParams["font.family"][0]
        assert fonts.use_language_font("zh") == fonts.FAMILY == matplotlib.rcParams["font.family"][0]
        fig, ax = plt.subplots()
        ax.set_title("输入 X (5, 5)：卷积核 $k_h \\times k_w$")
        ax.set_xlabel("列")
        fig.canvas.draw()
        plt.close(fig)
    missing = [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
    assert not missing, missing


@pytest.mark.parametrize("lang,said", [("en", "not answered yet: replace"), ("zh", "尚未作答")])
def test_an_unwritten_answer_called_in_a_notebook_says_so_in_its_language(tmp_path, lang, said):
    """A question's test cell calls the learner's function itself: nbgrader's bare placeholder says
    what to do, any other NotImplementedError is left as it is."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(metadata={"convlab": {"lang": lang}, "kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("def output_shape():\n    raise NotImplementedError()"),
                nbformat.v4.new_code_cell("from convlab.checks import lesson01 as check\n"
                                          "check.output_shape(output_shape())"),
                nbformat.v4.new_code_cell("raise NotImplementedError('torch says why')")]
    nbformat.write(nb, str(tmp_path / "lesson.ipynb"))
    env = {k: v for k, v in __import__("os").environ.items() if k not in (i18n.ENV, "JPY_SESSION_NAME")}
    NotebookClient(nb, resources={"metadata": {"path": str(tmp_path)}}, kernel_name="python3", timeout=120,
                   allow_errors=True).execute(env=env)
    [unwritten], [other] = nb.cells[1].outputs, nb.cells[2].outputs
    assert unwritten["ename"] == "NotImplementedError" and said in unwritten["evalue"], unwritten["evalue"]
    assert any("output_shape" in line for line in unwritten["traceback"])  # the learner's line is shown
    assert other["evalue"] == "torch says why"

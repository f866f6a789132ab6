"""Per-student questions: numbers drawn from the learner's id, the lesson's numbers without one, and
each learner judged against their own numbers, by the notebook's check and by the grader alike."""
import pytest

from autograder.grading.notebook_job import Planned, Source
from convlab import learner, shapes
from convlab.checks.core import CheckFailed
from convlab.checks.questions import PersonalQuestion, Question

output_size = PersonalQuestion(
    expected=lambda q: shapes.conv_output_size(q["n"], q["k"], stride=q["s"], padding=q["p"]),
    slips=(("the +1 forgotten", lambda q: (q["n"] + 2 * q["p"] - q["k"]) // q["s"]),),
    draw=lambda rng: {"n": rng.randint(20, 60), "k": rng.choice([3, 5, 7]), "s": rng.choice([1, 2, 3]),
                      "p": rng.randint(0, 3)},
    lesson={"n": 13, "k": 3, "s": 2, "p": 0},
    text="An input {n} wide, kernel {k}, stride {s}, padding {p}: how wide is the output?")


def right(numbers):
    return (numbers["n"] + 2 * numbers["p"] - numbers["k"]) // numbers["s"] + 1


def test_each_learner_draws_their_own_numbers_and_keeps_them():
    drawn = {who: output_size.numbers(who) for who in ("ana", "ben", "cy", "dan", "eve")}
    assert len({tuple(sorted(n.items())) for n in drawn.values()}) >= 4
    assert output_size.numbers("ana") == drawn["ana"]


def test_a_learner_without_an_id_gets_the_lessons_numbers(monkeypatch):
    monkeypatch.delenv(learner.ENV, raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    assert output_size.numbers() == {"n": 13, "k": 3, "s": 2, "p": 0}
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    assert output_size.numbers() == output_size.numbers("ana")  # on a hub: the server's user
    monkeypatch.setenv(learner.ENV, "")  # the grader's word, "no id", wins over the server's user
    assert output_size.numbers() == {"n": 13, "k": 3, "s": 2, "p": 0}


def test_the_notebook_shows_and_checks_the_learners_own_numbers(monkeypatch, capsys):
    monkeypatch.setenv(learner.ENV, "ana")
    mine, theirs = output_size.numbers("ana"), output_size.numbers("ben")
    output_size.show()
    assert capsys.readouterr().out.strip() == output_size.text.format(**mine)
    output_size(right(mine))
    if right(theirs) != right(mine):
        with pytest.raises(CheckFailed, match="not right yet"):
            output_size(right(theirs))


def test_the_grader_judges_the_student_it_grades_whatever_the_notebook_says(monkeypatch):
    monkeypatch.setenv(learner.ENV, "ben")  # what a notebook could claim
    source = Source.__new__(Source)
    source.answers = {"q": output_size, "plain": 7}
    bound = Planned(source, None, None, [], learner="ana").answers
    assert bound["plain"] == 7 and isinstance(bound["q"], Question) and bound["q"].name == output_size.name
    mine = output_size.numbers("ana")
    assert bound["q"].verdict(right(mine)) == (None, None)
    slip = (mine["n"] + 2 * mine["p"] - mine["k"]) // mine["s"]
    assert bound["q"].verdict(slip)[1] == "the +1 forgotten"


def test_plain_nbgraders_execute_tells_the_kernel_the_student(monkeypatch):
    import asyncio

    import nbformat

    from autograder.config import ExecuteInItsLanguage

    captured = {}

    async def fake_start(self, **kwargs):
        captured.update(kwargs["env"])

    monkeypatch.setattr("nbgrader.preprocessors.Execute.async_start_new_kernel", fake_start)
    monkeypatch.setattr("nbgrader.preprocessors.Execute.preprocess",
                        lambda self, nb, resources=None, km=None: asyncio.run(self.async_start_new_kernel()))
    step = ExecuteInItsLanguage()
    step.nb = nbformat.v4.new_notebook()
    step.preprocess(step.nb, {"nbgrader": {"student": "ana"}})
    assert captured[learner.ENV] == "ana"


def test_the_grader_checks_every_submission_of_a_run_on_the_same_fresh_cases():
    """Shared seeds let wrong outputs be compared across a class (`integrity`); each call of a cell
    draws its own, and nothing in a notebook holds them."""
    from autograder.grading.verification import run_seed

    first = run_seed("lesson01.corr2d", "test_corr2d", 0)
    assert run_seed("lesson01.corr2d", "test_corr2d", 0) == first  # every submission of this run
    assert len({first, run_seed("lesson01.corr2d", "test_corr2d", 1), run_seed("lesson01.corr2d", "t2", 0)}) == 3
    assert 0 <= first < 2 ** 62

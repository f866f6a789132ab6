"""Every 'check your understanding' question: its answer passes, each slip gets its own message,
a wrong type is named, and the grader's verdict on a recorded value is the notebook's."""
import pytest

from autograder.grading.rejudge import verify_records
from convlab import learner
from convlab.checks import CheckFailed, registry
from convlab.checks.diagnose import normalise_answer
from convlab.checks.questions import PersonalQuestion
from convlab.checks.record import write_answer_record

#: A per-student question is checked for several learners: none (the lesson's numbers) and a few ids.
LEARNERS = ("", "ana", "ben", "cy", "dan", "eve", "fay", "gus")
QUESTIONS = {f"{name}@{who}" if isinstance(q, PersonalQuestion) else name: (q, who)
             for name, q in registry.questions().items()
             for who in (LEARNERS if isinstance(q, PersonalQuestion) else (None,))}
SLIPS = [(key, slip) for key, (q, who) in QUESTIONS.items() for slip, _ in q.slips]


@pytest.fixture
def asked(request, monkeypatch):
    """(the question as its learner answers it, the registered question): a per-student one bound to
    the learner, who is also this notebook's learner (`convlab.learner`)."""
    question, who = QUESTIONS[request.param]
    if who is None:
        return question, question
    monkeypatch.setenv(learner.ENV, who)
    return question.for_learner(who), question


def test_every_lessons_questions_are_registered():
    lessons = {name.split(".")[0] for name in registry.questions()}
    assert lessons == {m.__name__.rsplit(".", 1)[1] for m in registry.lesson_modules()}


@pytest.mark.parametrize("asked", QUESTIONS, indirect=True)
def test_the_answer_passes_and_no_slip_gives_it(asked, capsys):
    question, registered = asked
    registered(question.expected())
    assert capsys.readouterr().out == f"{question.short}: right\n"
    given = [normalise_answer(gives()) for _, gives in question.slips]
    assert normalise_answer(question.expected()) not in given
    assert len(set(given)) == len(given), "two slips give the same answer: the message could not tell them"


@pytest.mark.parametrize("asked, slip", SLIPS, ids=[f"{n}-{s[:30]}" for n, s in SLIPS], indirect=["asked"])
def test_a_slip_is_named(asked, slip):
    question, registered = asked
    gives = dict(question.slips)[slip]
    with pytest.raises(CheckFailed) as failure:
        registered(gives())
    assert str(failure.value) == f"{registered.short}: not right yet — {slip}."


@pytest.mark.parametrize("value, words", [(None, "not answered yet"), ("24", "answer with an int"),
                                          (2.5, "not right yet"), ((1, "a"), "answer with an int")])
def test_a_wrong_kind_of_answer_is_named(value, words):
    with pytest.raises(CheckFailed, match=words):
        registry.questions()["lesson01.output_shape"](value)


@pytest.mark.parametrize("asked", QUESTIONS, indirect=True)
def test_the_grader_judges_a_recorded_answer_as_the_notebook_does(asked, tmp_path, monkeypatch):
    question, registered = asked
    name = registered.name
    values = [question.expected(), *(gives() for _, gives in question.slips), None]
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(tmp_path))
    for value in values:
        write_answer_record(name, normalise_answer(value), None)
    judged = [j for js in verify_records(tmp_path, answers={name: question}).values() for j in js]  # bound: the grader's
    assert [j.passed for j in judged] == [True] + [False] * (len(values) - 1)
    assert [j.what for j in judged[1:-1]] == [slip for slip, _ in question.slips]
    assert judged[-1].message == f"{question.short}: not answered yet."

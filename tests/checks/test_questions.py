"""Every 'check your understanding' question: its answer passes, each slip gets its own message,
a wrong type is named, and the grader's verdict on a recorded value is the notebook's."""
import pytest

from autograder.grading.rejudge import verify_records
from convlab.checks import CheckFailed, registry
from convlab.checks.diagnose import normalise_answer
from convlab.checks.record import write_answer_record

QUESTIONS = registry.questions()
SLIPS = [(name, slip, gives) for name, q in QUESTIONS.items() for slip, gives in q.slips]


def test_every_lessons_questions_are_registered():
    lessons = {name.split(".")[0] for name in QUESTIONS}
    assert lessons == {m.__name__.rsplit(".", 1)[1] for m in registry.lesson_modules()}


@pytest.mark.parametrize("name", QUESTIONS)
def test_the_answer_passes_and_no_slip_gives_it(name, capsys):
    question = QUESTIONS[name]
    question(question.expected())
    assert capsys.readouterr().out == f"{question.short}: right\n"
    given = [normalise_answer(gives()) for _, gives in question.slips]
    assert normalise_answer(question.expected()) not in given
    assert len(set(given)) == len(given), "two slips give the same answer: the message could not tell them"


@pytest.mark.parametrize("name, slip, gives", SLIPS, ids=[f"{n}-{s[:30]}" for n, s, _ in SLIPS])
def test_a_slip_is_named(name, slip, gives):
    with pytest.raises(CheckFailed) as failure:
        QUESTIONS[name](gives())
    assert str(failure.value) == f"{QUESTIONS[name].short}: not right yet — {slip}."


@pytest.mark.parametrize("value, words", [(None, "not answered yet"), ("24", "answer with an int"),
                                          (2.5, "not right yet"), ((1, "a"), "answer with an int")])
def test_a_wrong_kind_of_answer_is_named(value, words):
    with pytest.raises(CheckFailed, match=words):
        QUESTIONS["lesson01.output_shape"](value)


@pytest.mark.parametrize("name", QUESTIONS)
def test_the_grader_judges_a_recorded_answer_as_the_notebook_does(name, tmp_path, monkeypatch):
    question = QUESTIONS[name]
    values = [question.expected(), *(gives() for _, gives in question.slips), None]
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(tmp_path))
    for value in values:
        write_answer_record(name, normalise_answer(value), None)
    judged = [j for js in verify_records(tmp_path, answers={name: question}).values() for j in js]
    assert [j.passed for j in judged] == [True] + [False] * (len(values) - 1)
    assert [j.what for j in judged[1:-1]] == [slip for slip, _ in question.slips]
    assert judged[-1].message == f"{question.short}: not answered yet."

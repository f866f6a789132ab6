"""Every registered exercise: the course's answer passes, each recognisable mistake fails and is named,
torch's own kernel and the course's references earn nothing, and records are judged the same outside.

Parametrised over ``registry.exercises()``: an exercise is covered as soon as it lands (its
solution notebook must call it from a graded test cell), and more deeply once answers to it are in
tests/checks/answers.py.
"""
import pytest

from autograder.grading.rejudge import verify_records
from checks.answers import BANNED, COURSE_KERNELS, MISTAKES, RIGHT, SHORTCUTS, lifted
from convlab.checks import CheckFailed, references, registry

pytestmark = pytest.mark.grading

EXERCISES = registry.exercises()
ALL_MISTAKES = [(name, fn, fragment) for name in EXERCISES for fn, fragment in MISTAKES.get(name, ())]


POINTS = registry.points()


@pytest.mark.parametrize("name", EXERCISES)
def test_every_exercise_is_tested(name):
    """By its solution notebook's graded test cells (tests/grading/test_grade_forgeries.py grades every lesson's
    answers and forgeries), and here by the answers written for it in tests/checks/answers.py, if any."""
    assert POINTS.get(name), f"no graded test cell of solutions/ calls {name}"
    if name in RIGHT:
        assert MISTAKES.get(name), f"write {name}'s mistaken answers in tests/checks/answers.py"
        assert name in BANNED or not EXERCISES[name].references, f"write an answer to {name} using a banned reference"


def right(name):
    if name not in RIGHT:
        pytest.skip(f"{name} is answered by its solution notebook only (tests/grading/test_grade_forgeries.py)")
    return RIGHT[name]


@pytest.mark.parametrize("seed, cases", [(0, None), (831, 12), (4242, 4)])
@pytest.mark.parametrize("name", EXERCISES)
def test_the_courses_answer_passes(name, seed, cases):
    lifted(EXERCISES[name])(right(name), seed=seed, cases=cases)


@pytest.mark.parametrize("name, fn, fragment", ALL_MISTAKES, ids=[f"{n}-{f}" for n, _, f in ALL_MISTAKES])
def test_a_mistake_fails_and_is_named(name, fn, fragment):
    with pytest.raises(CheckFailed) as failure:
        lifted(EXERCISES[name])(fn, cases=12)
    message = str(failure.value)
    assert fragment in message, message
    assert len(message.splitlines()) <= 4, message


@pytest.mark.parametrize("name", SHORTCUTS)
def test_torchs_own_kernel_is_reported_and_fails(name):
    with pytest.raises(CheckFailed, match="uses torch's own"):
        lifted(EXERCISES[name])(SHORTCUTS[name], cases=3)


@pytest.mark.parametrize("name", BANNED)
def test_a_banned_reference_earns_the_ban_message(name):
    with pytest.raises(CheckFailed, match="uses the course's reference|which computes this exercise's answer"):
        EXERCISES[name](BANNED[name], cases=2)


@pytest.mark.parametrize("name", EXERCISES)
def test_an_answer_built_on_the_banned_references_earns_nothing(name):
    check, fn = EXERCISES[name], right(name)
    if not check.references:
        pytest.skip(f"{name} bans no reference")
    uses = set()
    with references.forbid_references(check.references) as watch:
        try:
            case = check.cases(0)[0]
            check.call(check.prepare(fn), case, 0, "cpu")
        finally:
            uses.update(watch.names)
    if not uses:
        pytest.skip(f"this answer to {name} is written without a banned reference")
    with pytest.raises(CheckFailed, match="uses the course's reference|which computes this exercise's answer"):
        check(fn, cases=2)


@pytest.mark.parametrize("name, kernel", COURSE_KERNELS, ids=[n for n, _ in COURSE_KERNELS])
def test_the_course_kernels_pass_their_checks_with_hidden_seeds(name, kernel):
    lifted(EXERCISES[name])(kernel, seed=831, cases=12)


@pytest.mark.parametrize("name, kernel", COURSE_KERNELS, ids=[n for n, _ in COURSE_KERNELS])
def test_the_course_kernels_earn_nothing_as_answers(name, kernel):
    with pytest.raises(CheckFailed, match="uses the course's reference convlab"):
        EXERCISES[name](kernel, seed=831, cases=3)


@pytest.fixture
def record_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(tmp_path))
    monkeypatch.setenv("CONVLAB_CELL_ID", "cell")
    return tmp_path


@pytest.mark.parametrize("name", EXERCISES)
def test_records_verify_outside_the_kernel(record_dir, name):
    check, answer = lifted(EXERCISES[name]), right(name)
    (wrong, _) = MISTAKES[name][0]
    check(answer, seed=3, cases=3)
    with pytest.raises(CheckFailed) as failure:
        check(wrong, seed=3, cases=12)
    verdicts = verify_records(record_dir)["cell"]
    assert [v.passed for v in verdicts] == [True, False], [v.message for v in verdicts]
    assert verdicts[1].message == str(failure.value)

"""'Check your understanding' questions, checked where the learner reads them.

A lesson's check module binds one ``Question`` per question::

    output_shape = Question(lambda: shapes.conv_output_shape((28, 35), (5, 4)),
                            slips=(("the +1 forgotten", lambda: shapes.conv_output_shape((28, 35), (5, 4)) ...),))

and its visible test cell calls it on the learner's answer: ``check.output_shape(output_shape())``.
The right answer is computed here from the course's formulas, never written in the lesson; each
slip is computed too, so a wrong answer that matches one is named ("the +1 forgotten"). The
notebook's check and the grader (``autograder.grading.rejudge``, on the value the grader's own run
recorded) give the same verdict through ``Question.verdict``.
"""
from __future__ import annotations

import hashlib
import os
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from convlab.checks.compare import describe_value
from convlab.checks.core import CheckFailed
from convlab.checks.diagnose import normalise_answer
from convlab.checks.record import write_answer_record
from convlab.i18n import _
from convlab.learner import learner_id


@dataclass(eq=False)
class Question:
    """``expected``: the answer, computed when checked; ``slips``: (what went wrong, the answer it gives)."""

    expected: Callable[[], object]
    slips: tuple[tuple[str, Callable[[], object]], ...] = ()
    module: str = field(default="", repr=False)  # where it is bound; from the caller when not given
    bound_name: str = field(default="", repr=False)  # its name where it is bound nowhere (`for_learner`'s)

    def __post_init__(self):
        if not self.module:
            self.module = sys._getframe(2).f_globals.get("__name__", "")

    @property
    def name(self) -> str:
        """'lessonNN.attribute', from where the question is bound (as an Exercise's name)."""
        if self.bound_name:
            return self.bound_name
        for attribute, value in vars(sys.modules.get(self.module) or object()).items():
            if value is self:
                return f"{self.module.rsplit('.', 1)[-1]}.{attribute}"
        return "question"

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def verdict(self, value) -> tuple[str | None, str | None]:
        """(None, None) when ``value`` is right; else (feedback, the slip recognised or None).

        ``value`` is the learner's answer, or the plain data a record holds of it (lists for tuples)."""
        if value is None or value is Ellipsis:
            return _("not answered yet"), None
        got = normalise_answer(value)
        if got is None:
            return _("answer with an int, or a tuple of ints for a shape, got {got}").format(
                got=describe_value(value)), None
        if got == normalise_answer(self.expected()):
            return None, None
        for slip, gives in self.slips:
            if got == normalise_answer(gives()):
                return _("not right yet — {slip}").format(slip=_(slip)), slip
        return _("not right yet — work it out again from the formula above"), None

    def __call__(self, value) -> None:
        __tracebackhide__ = True
        if os.environ.get("CONVLAB_RECORD_DIR"):
            write_answer_record(self.name, normalise_answer(value), None)
        problem, _slip = self.verdict(value)
        if problem is not None:
            raise CheckFailed(_("{name}: {problem}.").format(name=self.short, problem=problem)) from None
        print(_("{name}: right").format(name=self.short))


@dataclass(eq=False)
class PersonalQuestion(Question):
    """A question whose numbers are the learner's own: drawn from their id, so two students of a
    class see different sizes, strides and dilations, and each is judged against their own.

    ``draw(rng)`` returns the numbers (a dict) from a generator seeded by the question and the
    learner's id; ``lesson`` holds the lesson's numbers, which a learner without an id gets;
    ``text`` says the question with them (``{name}`` fields, translated); ``expected`` and each
    slip take the numbers. In the notebook ``show()`` prints the learner's question and
    ``numbers()`` gives the numbers to compute with; the grader binds the student it grades
    (``for_learner``), so its verdict never depends on what a notebook says its learner is.
    """

    expected: Callable[[dict], object] = None
    draw: Callable[[random.Random], dict] = None
    lesson: dict = field(default_factory=dict)
    text: str = ""

    def numbers(self, learner: str | None = None) -> dict:
        """The numbers of `learner` (default: this notebook's learner, `convlab.learner`)."""
        learner = learner if learner is not None else learner_id()
        if not learner:
            return dict(self.lesson)
        seed = hashlib.sha256(f"{self.name}|{learner}".encode()).digest()
        return self.draw(random.Random(int.from_bytes(seed[:8], "big")))

    def show(self) -> None:
        """Print the question with this learner's numbers."""
        print(_(self.text).format(**self.numbers()))

    def for_learner(self, learner: str | None) -> Question:
        """The plain question `learner` answers: their numbers, bound."""
        numbers = self.numbers(learner or "")
        return Question(lambda: self.expected(numbers),
                        tuple((slip, (lambda gives=gives: gives(numbers))) for slip, gives in self.slips),
                        module=self.module, bound_name=self.name)

    def verdict(self, value) -> tuple[str | None, str | None]:
        return self.for_learner(learner_id()).verdict(value)

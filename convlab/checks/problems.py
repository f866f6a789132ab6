"""What is wrong with a learner's answer: a kind the engine acts on, and the text the learner reads.

The engine decides what to do with a problem (look for the likely mistake or not) from its
``kind``, never from its words, so feedback can be reworded without changing what it does.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from convlab.i18n import _


class Kind(Enum):
    NOT_ANSWERED = "not answered"        # nbgrader's placeholder still raises NotImplementedError
    BANNED = "banned"                    # the course's reference was called
    BANNED_KERNEL = "banned kernel"      # torch's own convolution, pooling, im2col or col2im kernel ran
    EXCEPTION = "exception"              # the function raised (or raised where it should not)
    NO_EXCEPTION = "no exception"        # the function returned where it should raise
    MODIFIED_INPUT = "modified input"    # an input tensor changed in place
    WRONG_DEVICE = "wrong device"
    WRONG_TYPE = "wrong type"            # not a plain torch.Tensor where torch returns one
    WRONG_RETURN = "wrong return"        # not what torch returns: a tuple of another length, no int
    WRONG_DTYPE = "wrong dtype"
    WRONG_SHAPE = "wrong shape"
    WRONG_VALUES = "wrong values"


#: What a mistaken variant's answer can explain: what comes back, its sizes and its values.
DIAGNOSABLE = frozenset({Kind.WRONG_RETURN, Kind.WRONG_SHAPE, Kind.WRONG_VALUES})


@dataclass(frozen=True)
class Problem:
    """One problem with an answer; ``part`` is the output it is about ('output[1]', 'grad_weight')."""

    kind: Kind
    text: str
    part: str | None = None
    mistake: str | None = None  # the likely mistake, once diagnosed ('kernel flipped')

    def __str__(self) -> str:
        return self.text

    @property
    def diagnosable(self) -> bool:
        """Wrong values or sizes can be traced to a mistake; a wrong device, dtype or type cannot."""
        return self.kind in DIAGNOSABLE

    def about(self, part: str) -> Problem:
        """The same problem said of a named part of a tuple answer: 'grad_weight: wrong values: ...'."""
        return Problem(self.kind, f"{part}: {self.text}", part, self.mistake)

    def hinted(self, labels: list[str]) -> Problem:
        """The problem with the likely mistake, the first of ``labels``, on a line of its own."""
        if not labels:
            return self
        name = labels[0].split(" — ")[0]  # 'kernel flipped — that is convolution; ...': its name only
        return Problem(self.kind, self.text + "\n" + _("Likely mistake: {label}.").format(label=_(labels[0])),
                       self.part, name)

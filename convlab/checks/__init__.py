"""Checks that notebook test cells call: each compares a learner's function with torch.

A test cell::

    from convlab.checks import lesson01 as check
    check.corr2d(corr2d)                        # visible: a few random cases
    check.corr2d(corr2d, seed=831, cases=20)    # hidden: other cases

Each check runs the function on random cases on the CPU, on the ``meta`` device (where a tensor
created on the wrong device shows) and on CUDA when there is one, compares with torch in
float64, and raises ``CheckFailed`` with short feedback naming the case and the likely mistake.
Calls of torch's own convolution/pooling kernels are caught by ``forbid_builtin_kernels``.
With ``CONVLAB_RECORD_DIR`` set, each call also leaves a record that the grader
(``autograder.grading.rejudge.verify_records``) re-judges outside the learner's kernel.

Writing a check (a lesson module holds one ``Exercise`` instance per exercise)::

    import torch.nn.functional as F
    from convlab.checks import Case, Exercise

    class Unfold(Exercise):
        '''unfold(input, kernel_size, stride=1): the learner's signature, written once (feedback
        names the arguments without a default: input, kernel_size).'''

        examples = ({"stride": 2},)         # the lesson's worked example fixes case 0's stride

        def make_case(self, draw, i):       # draw: seeded ints, choices and randn tensors
            x = draw.randn(draw.int(1, 2), draw.int(1, 3), draw.int(4, 8), draw.int(4, 8),
                           dtype=draw.dtype(i))
            return Case((x, (2, 3)), {"stride": self.example(i).get("stride", draw.int(1, 2))})

        def reference(self, input, kernel_size, stride=1):   # float64 copies of the case
            return F.unfold(input, kernel_size, stride=stride)

        def mistakes(self, input, kernel_size, stride=1):    # (label, torch's answer if so)
            yield "stride ignored", F.unfold(input, kernel_size)

    unfold = Unfold()                       # its name, lesson07.unfold, is where it is bound

A new exercise is registered by being bound in its lesson module (``convlab.checks.registry``);
run ``convlab build`` to list it in docs/exercises.md.

Class attributes to adjust: ``default_cases`` (5), ``banned`` (``KERNEL_OPS``: torch's
convolution, pooling, im2col/col2im; ``BANNED_ATEN_OPS`` also bans padding), ``use_meta``
(False when the function must read values, e.g. returns a Python int computed from data).
"""
from convlab.checks.core import Case, CheckFailed, Draw, Exercise, answer
from convlab.checks.guard import BANNED_ATEN_OPS, KERNEL_OPS, forbid_builtin_kernels
from convlab.checks.show import explain_unanswered

explain_unanswered()

__all__ = [
    "BANNED_ATEN_OPS", "KERNEL_OPS", "Case", "CheckFailed", "Draw", "Exercise", "answer",
    "forbid_builtin_kernels",
]

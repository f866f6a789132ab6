"""What runs as the learner, inside the sandbox: `execute` (the notebook run) and `verify_run`
(the grader's own calls of the learner's functions), with what guards them (`audit`,
`engine_snapshot`, `lazy_imports`) and the kernel client both use (`kernel_waits`).

May import: the standard library, `convlab`, third-party packages, `autograder.cell_meta` and
each other. Never `grading`, `sandbox` or `authoring` (a test holds this): nothing trusted runs
here, and whatever these modules write back is read by the grader as the learner's. `files`
names each file that crosses the wall.
"""

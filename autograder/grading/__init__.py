"""The trusted stages of `convlab grade`, in the grader's own process: `grade` (plan a class and
drive it), `worker` and `pool` (run each job through the sandbox), `rejudge`, `score` and
`verification` (judge what came back, never trusting it), `review` and `flags` (what a reader
must look at), `store`, `report` and `feedback` (what instructors and learners get).

May import: `autograder.inside.files` (names at the wall), `autograder.sandbox`, the shared
modules of `autograder`, and `convlab`. Never `authoring`.
"""

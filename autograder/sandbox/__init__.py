"""The wall, host side: what runs a command of the learner's with limits (`bubblewrap`), the
cgroups that bound a run's processes together (`cgroup`), and what a host gives (`doctor`, `host`).

May import: the standard library and the shared modules of `autograder`. Never `inside`,
`grading` or `authoring`: the wall knows nothing of what runs behind it.
"""

"""Making and serving a course: `build` (lessons from solutions, derived documents), `course`
(`convlab new-course`), `translations` and `catalog` (the Chinese edition and its messages) and
`hub` (`convlab hub`, a JupyterHub for courses).

May import: the shared modules of `autograder`, and `convlab`. Never `inside`, `grading` or
`sandbox`: nothing here grades.
"""

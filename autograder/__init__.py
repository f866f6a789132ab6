"""The instructor's side of convlab: nbgrader configuration and the grading pipeline.

Four zones, one folder each, and a few shared modules here:

- `inside/` runs as the learner, inside the sandbox: the notebook run, the grader's run of the
  learner's functions and what guards it. It imports nothing of the other zones; everything it
  writes is the learner's. `inside/files.py` names every file that crosses the wall.
- `sandbox/` is the wall, host side: the backends that run a command with limits, the cgroups
  they use, and `convlab doctor`, which says what a host gives.
- `grading/` holds the trusted stages of `convlab grade`: plan, run (through `sandbox/`), score,
  store, report and feedback. It re-judges every value `inside/` sends back.
- `authoring/` makes and serves courses: `convlab build`, `new-course`, translations, the message
  catalog and `convlab hub`.

Shared: `cli` (the `convlab` command), `config` and `offline_math` (named by courses'
`nbgrader_config.py`, so their import paths stay), `cell_meta` (nbgrader's cell metadata, read
alike on both sides of the wall), `coursedir` (a course directory's layout and its nbgrader
settings), `mutants` (which wrong answers a lesson's tests catch: `convlab audit`, `convlab build`
and the instructor report) and `defaults`.
"""

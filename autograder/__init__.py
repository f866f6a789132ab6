"""The instructor's side of convlab: nbgrader configuration and the grading pipeline."""

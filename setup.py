"""The one build step pyproject.toml cannot state: a wheel carries the instructor notebooks.

solutions/ (every lesson's notebook, its translations and its data) goes into the wheel as
autograder/_solutions/, and lessons/ (the learner's notebooks, both editions) as
autograder/_lessons/, so that `convlab new-course DIR` and `convlab lessons DIR` work from an
installed package with no checkout. An editable install runs from the checkout and uses its own.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SKIP = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")


class BuildPyWithSolutions(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, name in (("solutions", "_solutions"), ("lessons", "_lessons")):
            source = ROOT / folder
            if not source.is_dir():
                raise FileNotFoundError(f"{source}: the notebooks the wheel carries are missing")
            target = Path(self.build_lib, "autograder", name)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithSolutions})

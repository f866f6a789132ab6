"""The one build step pyproject.toml cannot state: a wheel carries the instructor notebooks.

solutions/ (every lesson's notebook, its translations and its data) goes into the wheel as
autograder/_solutions/, so that `convlab new-course DIR` works from an installed package with no
checkout. An editable install runs from the checkout and uses its solutions/ instead.
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
        solutions = ROOT / "solutions"
        if not solutions.is_dir():
            raise FileNotFoundError(f"{solutions}: the instructor notebooks the wheel carries are missing")
        target = Path(self.build_lib, "autograder", "_solutions")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(solutions, target, ignore=SKIP)


setup(cmdclass={"build_py": BuildPyWithSolutions})

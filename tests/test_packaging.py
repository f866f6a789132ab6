"""Packaging stays in step: pyproject.toml, environment.yml and constraints.txt agree with each other."""
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomllib came with Python 3.11; pip vendors tomli for older interpreters
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
TORCH_PIN = Version("2.13.0")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(lines):
    """Parse requirement strings into {canonical name: Requirement}, refusing duplicates."""
    reqs = {}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in reqs, f"{name} is listed twice: {reqs[name]} and {req}"
        reqs[name] = req
    return reqs


def _learner_requirements():
    """What a learner needs (nbgrader included: Validate and the Assignment List serve learners):
    pyproject's `dependencies`; grading at scale (dask) is the `grading` extra."""
    return _requirements(_pyproject()["project"]["dependencies"])


def _direct_requirements():
    """Every requirement pyproject names, dev tools included, without the self-reference convlab[...]."""
    project = _pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += [line for line in extra if canonicalize_name(Requirement(line).name) != "convlab"]
    reqs = {}
    for line in lines:  # the same package may appear in two extras; keep it once
        req = Requirement(line)
        reqs.setdefault(canonicalize_name(req.name), req)
    return reqs


def _environment_yml():
    """environment.yml's pip list (strings) and its conda dependencies (strings)."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
        else:
            conda.append(dep)
    return conda, pip


def _constraints():
    """constraints.txt as {canonical name: Version}; every line must be an exact `==` pin."""
    pins = {}
    for raw in (ROOT / "constraints.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"constraints.txt: {raw!r} is not an exact pin"
        name = canonicalize_name(req.name)
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = Version(specs[0].version)
    return pins


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    _, pip = _environment_yml()
    editable = [line for line in pip if line.startswith("-e")]
    assert editable == ["-e ."], f"environment.yml should install the package itself with '-e .', has {editable}"
    env = _requirements([line for line in pip if not line.startswith("-")])
    project = _learner_requirements()
    assert sorted(env) == sorted(project), (
        f"only in environment.yml: {sorted(set(env) - set(project))}; "
        f"only in pyproject.toml: {sorted(set(project) - set(env))}"
    )
    for name, req in project.items():
        other = env[name]
        assert (other.specifier, other.extras, other.marker) == (req.specifier, req.extras, req.marker), (
            f"{name}: pyproject.toml says {req}, environment.yml says {other}"
        )


def test_environment_yml_python_matches_requires_python():
    conda, _ = _environment_yml()
    pythons = [Requirement(dep) for dep in conda if canonicalize_name(Requirement(dep).name) == "python"]
    requires_python = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert len(pythons) == 1, f"environment.yml should name python once, has {pythons}"
    assert pythons[0].specifier == requires_python, (
        f"environment.yml asks for {pythons[0]}, pyproject.toml has requires-python {requires_python}"
    )


def test_constraints_pin_torch_2_13_0():
    pins = _constraints()
    assert pins.get("torch") == TORCH_PIN, f"constraints.txt pins torch to {pins.get('torch')}, expected {TORCH_PIN}"


def test_pyproject_torch_range_admits_the_pinned_torch():
    torch = _direct_requirements()["torch"]
    assert torch.specifier.contains(TORCH_PIN), f"pyproject.toml's {torch} excludes torch {TORCH_PIN}"


@pytest.mark.parametrize("name", sorted(_direct_requirements()))
def test_constraints_pin_every_direct_dependency_inside_its_range(name):
    req = _direct_requirements()[name]
    pins = _constraints()
    assert name in pins, f"constraints.txt does not pin {name} (pyproject.toml: {req})"
    assert req.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {name}=={pins[name]}, outside pyproject.toml's {req}"
    )


@pytest.mark.parametrize("name", sorted(n for n, r in _direct_requirements().items() if r.extras))
def test_constraints_pin_what_a_requested_extra_pulls_in(name):
    """dask[distributed] brings `distributed`; a pin on dask alone would leave it floating."""
    req = _direct_requirements()[name]
    pins = _constraints()
    pulled = []
    for line in importlib.metadata.requires(req.name) or []:
        dep = Requirement(line)
        if dep.marker and any(dep.marker.evaluate({"extra": extra}) for extra in req.extras):
            pulled.append(canonicalize_name(dep.name))
    assert pulled, f"{req} installs nothing through its extras {sorted(req.extras)}"
    missing = sorted(n for n in pulled if n not in pins and n != canonicalize_name(req.name))
    assert not missing, f"constraints.txt does not pin {missing}, installed by {req}"


@pytest.mark.parametrize("name", sorted(_direct_requirements()))
def test_installed_versions_are_the_pinned_ones(name):
    """The environment the tests run in is the one constraints.txt describes (torch's +cpu tag aside)."""
    pinned = _constraints().get(name)
    assert pinned is not None, f"constraints.txt does not pin {name}"
    installed = Version(importlib.metadata.version(name))
    assert Version(installed.public) == pinned, (
        f"{name} {installed} is installed, constraints.txt pins {pinned}; reinstall with "
        f"`pip install -c constraints.txt -e '.[dev]'`"
    )


# Applications a learner or instructor runs rather than imports.
RUN_NOT_IMPORTED = {"jupyterlab"}


@pytest.mark.parametrize("name", sorted(_requirements(_pyproject()["project"]["dependencies"])))
def test_every_base_dependency_is_used(name):
    if name in RUN_NOT_IMPORTED:
        pytest.skip(f"{name} is an application: `make lab` runs it")
    providers = importlib.metadata.packages_distributions()
    modules = {module for module, dists in providers.items() if name in {canonicalize_name(d) for d in dists}}
    source = "\n".join(path.read_text() for package in ("convlab", "autograder")
                       for path in (ROOT / package).rglob("*.py"))
    assert any(f"import {m}" in source or f"from {m}" in source for m in modules), \
        f"{name} is declared in pyproject.toml but convlab and autograder import none of {sorted(modules)}"


def test_the_base_install_grades_without_the_grading_extra():
    """Without dask, `convlab check` and local `convlab grade` still import; only --scheduler needs it."""
    code = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
            "import autograder.cli, autograder.grading.grade, autograder.grading.check, convlab.checks\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

"""What `convlab hub` writes, read without a hub running (the end-to-end term is tests/authoring/test_e2e_hub.py):
each course its own Formgrader service open to its staff only, the exchange and path_includes_course
for everyone, and bad course lists refused by name."""
import pytest
from traitlets.config import Config

from autograder.authoring.hub import CourseSpec, HubError, HubSettings, write_hub

pytestmark = pytest.mark.grading


def _courses(tmp_path):
    return [CourseSpec.parse(f"conv101:{tmp_path / 'c101'}:prof,anna"),
            CourseSpec.parse(f"conv101zh:{tmp_path / 'c101zh'}:prof")]


def _loaded(config_file) -> Config:
    """The settings JupyterHub would load from `config_file`."""
    c = Config()
    exec(compile(config_file.read_text(), str(config_file), "exec"),  # noqa: S102 - the file under test
         {"c": c, "get_config": lambda: c, "load_subconfig": lambda name: None})
    return c


def test_each_course_gets_a_formgrader_service_for_its_staff_only(tmp_path):
    files = write_hub(tmp_path / "hub", _courses(tmp_path), HubSettings(exchange=tmp_path / "exchange"))
    c = _loaded(files.config)
    assert [service["name"] for service in c.JupyterHub.services] == ["conv101", "conv101zh"]
    assert [service["user"] for service in c.JupyterHub.services] == ["prof", "prof"]
    roles = {role["scopes"][0]: sorted(role["users"]) for role in c.JupyterHub.load_roles}
    assert roles == {"access:services!service=conv101": ["anna", "prof"],
                     "access:services!service=conv101zh": ["prof"]}
    system = files.nbgrader_config.read_text()
    assert "path_includes_course = True" in system and str(tmp_path / "exchange") in system
    assert oct(files.state.stat().st_mode & 0o777) == "0o700"


@pytest.mark.parametrize("text", ["conv101", "conv101::prof", "conv 101:/x:prof", ":/x:prof"])
def test_a_malformed_course_is_refused_by_name(text):
    with pytest.raises((HubError, ValueError)) as error:
        CourseSpec.parse(text)
    assert "course" in str(error.value).lower() or text.split(":")[0] in str(error.value)


def test_two_courses_with_one_id_are_refused(tmp_path):
    twice = [CourseSpec.parse(f"conv101:{tmp_path / 'a'}:prof"), CourseSpec.parse(f"conv101:{tmp_path / 'b'}:prof")]
    with pytest.raises(HubError, match="conv101"):
        write_hub(tmp_path / "hub", twice, HubSettings(exchange=tmp_path / "exchange"))

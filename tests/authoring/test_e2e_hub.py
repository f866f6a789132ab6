"""One term on a real JupyterHub, deployed from what `convlab hub` writes, driven in Chromium.

Local accounts (an instructor and two students, unique names), two courses made by `convlab
new-course` as the instructor in their home (the same assignment, ps1, in both), the hub from
`write_hub` on a free loopback port with configurable-http-proxy, PAM logins through the hub's login
page. Student A fetches and submits from the Assignment List (the answer written into the fetched
notebook), in both courses; student B submits a blank one. The instructor collects, grades with
`convlab grade` as themself (sandboxed), releases feedback, which A fetches. The course's Formgrader
service answers its instructor and refuses a student; students cannot read the course folder; the
two courses' submissions stay apart. Every process started is stopped by process group, and the
accounts and folders made are removed, pass or fail. Timings (install excluded) are printed and
written to artifacts/e2e-hub.json.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import coursekit as ck
import hubkit as hk
import nbformat
import pytest
from labkit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, skip_without_a_browser

from autograder import cell_meta
from autograder.authoring.hub import CourseSpec, HubSettings, first_private_folder, make_exchange, write_hub

WHY_NOT = hk.why_no_hub()
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800),  # the first run also builds the hub's environment
              pytest.mark.skipif(WHY_NOT is not None, reason=f"no JupyterHub test: {WHY_NOT}")]
playwright_api = skip_without_a_browser()

COURSES = ("conv101", "conv102")
ASSIGNMENT = ck.ASSIGNMENT


def button(page, scope, label):
    return page.locator(scope).get_by_role("button", name=label, exact=True)


def log_in(browser, hub_url, user, password, next_url=None):
    """A fresh browser context logged in through the hub's login page; its page follows `next_url`
    (default: the hub spawns the user's server and opens JupyterLab, which is waited for)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{hub_url}/hub/login" + (f"?next={next_url}" if next_url else ""), timeout=60_000)
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    if next_url is None:
        page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
        page.locator("#jp-MainMenu").wait_for(timeout=120_000)
    return page


def open_assignment_list(page, hub_url, user, course):
    """The Assignment List of `user`'s lab, showing `course`; the Nbgrader menu's entries."""
    page.goto(f"{hub_url}/user/{user}/lab/workspaces/hub-e2e", timeout=120_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").get_by_text("Nbgrader", exact=True).click(timeout=120_000)
    menu = [text for text in page.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts() if text]
    page.get_by_text("Assignment List", exact=True).click()
    page.locator("#released_assignments_list").wait_for(timeout=60_000)
    choose_course(page, course)
    return menu


def choose_course(page, course):
    shown = page.locator("#course_list_default")
    page.wait_for_function("() => !document.querySelector('#course_list_default').innerText.includes('Loading')",
                           timeout=60_000)
    if shown.inner_text().strip() != course:
        page.locator("#course_list_dropdown").click()
        page.locator("#course_list").get_by_text(course, exact=True).click()
    page.locator("#released_assignments_list, #fetched_assignments_list").get_by_text(course).first.wait_for(
        timeout=60_000)


def fetch(page, home, course):
    """Fetch the assignment of `course` shown in the Assignment List: the notebook it put in `home`."""
    button(page, "#released_assignments_list", "Fetch").first.click(timeout=60_000)
    page.locator("#fetched_assignments_list").get_by_text(ASSIGNMENT).first.wait_for(timeout=60_000)
    fetched = home / course / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"  # Exchange.path_includes_course
    assert fetched.exists(), f"Fetch put no notebook at {fetched}"
    return fetched


def submit(page):
    button(page, "#fetched_assignments_list", "Submit").first.click(timeout=60_000)
    page.locator("#submitted_assignments_list").get_by_text(ASSIGNMENT).first.wait_for(timeout=60_000)


def answer(path, answers, owner):
    """Write `answers` into the learner's fetched notebook, as if typed in (the file stays theirs)."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.write(ck.fill_answers(nb, answers), str(path))
    shutil.chown(path, owner, owner)


def answer_cells(path):
    nb = nbformat.read(str(path), as_version=4)
    return [cell.source for cell in nb.cells if cell_meta.is_answer_cell(cell)]


def wait_for_files(folder, pattern, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(folder.glob(pattern))
        if found:
            return found
        time.sleep(0.5)
    return []


class Term:
    """Names, paths and commands of one hub run."""

    def __init__(self, venv, accounts, work):
        self.venv, self.accounts, self.work = venv, accounts, work
        self.instructor, self.a, self.b = (accounts.make(s) for s in ("i", "a", "b"))
        self.jupyter = work / "hub" / "jupyter"
        self.course = {c: accounts.home(self.instructor) / c for c in COURSES}

    def env(self, user, **extra):
        role = "staff" if user == self.instructor else "learner"
        return hk.user_env(user, self.venv, f"{self.jupyter}/{role}:{self.jupyter}/system", **extra)

    def as_instructor(self, *command, course=None):
        """A command as the instructor, in the course folder when `course` is given (its nbgrader_config.py applies)."""
        cwd = self.course[course] if course else None
        return hk.run_as(self.instructor, [str(self.venv / "bin" / command[0]), *command[1:]], self.env(self.instructor),
                         cwd=cwd)

    def as_instructor_ok(self, *command, course=None):
        result = self.as_instructor(*command, course=course)
        assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        return result


def _grade(term, timings, found):
    """`convlab grade` as the instructor, sandboxed; unsandboxed (recorded, the sandbox test skips) only
    where the sandbox refuses to run as that account here."""
    started = time.monotonic()
    course = str(term.course["conv101"])
    result = term.as_instructor("convlab", "grade", course, "--workers", "2", "--timeout", "120")
    if result.returncode == 2:
        found["sandbox_refused"] = (result.stderr or result.stdout)[-1500:]
        result = term.as_instructor("convlab", "grade", course, "--workers", "2", "--timeout", "120", "--no-sandbox")
    assert result.returncode == 0, f"convlab grade:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    timings["grade_s"] = time.monotonic() - started
    found["grades"] = list(csv.DictReader(io.StringIO((term.course["conv101"] / "grades.csv").read_text())))
    found["grading_output"] = result.stdout[-3000:] + result.stderr[-3000:]
    found["grading_report"] = (term.course["conv101"] / "grading-report.md").read_text()[:6000]


def _students(browser, term, hub, timings, found):
    """A answers and submits in conv101, submits a blank in conv102; B submits a blank in conv101."""
    home_a, home_b = term.accounts.home(term.a), term.accounts.home(term.b)
    started = time.monotonic()
    page_a = log_in(browser, hub.url, term.a, term.accounts.passwords[term.a])
    timings["spawn_and_open_lab_s"] = time.monotonic() - started
    found["menu_a"] = open_assignment_list(page_a, hub.url, term.a, "conv101")
    found["courses_offered"] = page_a.locator("#course_list a").all_inner_texts()
    started = time.monotonic()
    fetched = fetch(page_a, home_a, "conv101")
    timings["fetch_s"] = time.monotonic() - started
    answer(fetched, ck.solution_answers(term.course["conv101"]), term.a)
    started = time.monotonic()
    submit(page_a)
    timings["submit_s"] = time.monotonic() - started
    choose_course(page_a, "conv102")
    fetch(page_a, home_a, "conv102")
    submit(page_a)
    found["fetched_a"] = sorted(str(p.relative_to(home_a)) for p in home_a.glob(f"*/{ASSIGNMENT}/*.ipynb"))

    page_b = log_in(browser, hub.url, term.b, term.accounts.passwords[term.b])
    open_assignment_list(page_b, hub.url, term.b, "conv101")
    fetch(page_b, home_b, "conv101")
    submit(page_b)
    page_b.context.close()
    return page_a


def _feedback(page_a, term, hub, timings, found):
    term.as_instructor_ok("nbgrader", "release_feedback", ASSIGNMENT, "--course", "conv101", course="conv101")
    started = time.monotonic()
    open_assignment_list(page_a, hub.url, term.a, "conv101")
    button(page_a, "#submitted_assignments_list", "Fetch Feedback").first.click(timeout=60_000)
    folder = term.accounts.home(term.a) / "conv101" / ASSIGNMENT / "feedback"
    pages = wait_for_files(folder, f"*/{ASSIGNMENT}.html")
    timings["fetch_feedback_s"] = time.monotonic() - started
    found["feedback"] = pages[0].read_text() if pages else None


def _formgrader(browser, page_a, term, hub, timings, found):
    """The conv101 service for its instructor (logged in straight to it) and for student A; then the
    instructor's own server, which has no Formgrader of its own."""
    started = time.monotonic()
    page_i = log_in(browser, hub.url, term.instructor, term.accounts.passwords[term.instructor],
                    next_url="/services/conv101/formgrader")
    page_i.locator("text=Manage Assignments").first.wait_for(timeout=120_000)
    timings["formgrader_s"] = time.monotonic() - started
    reply = page_i.goto(f"{hub.url}/services/conv101/formgrader")
    found["formgrader_instructor"] = (reply.status, page_i.url)
    reply = page_i.request.get(f"{hub.url}/services/conv101/formgrader/api/submissions/{ASSIGNMENT}")
    found["formgrader_submissions"] = reply.json() if reply.status == 200 else reply.status
    found["formgrader_student"] = page_a.goto(f"{hub.url}/services/conv101/formgrader").status
    found["services_menu_student"] = page_a.goto(f"{hub.url}/hub/home").status, page_a.content()
    page_i.goto(f"{hub.url}/hub/home")
    found["services_menu_instructor"] = page_i.content()

    page_i.goto(f"{hub.url}/hub/spawn")
    page_i.wait_for_url(f"**/user/{term.instructor}/lab**", timeout=180_000)
    page_i.locator("#jp-MainMenu").wait_for(timeout=120_000)
    page_i.locator("#jp-MainMenu .lm-MenuBar-itemLabel").get_by_text("Nbgrader", exact=True).click(timeout=120_000)
    found["menu_instructor"] = [t for t in page_i.locator(".lm-Menu-content .lm-Menu-itemLabel").all_inner_texts() if t]
    found["own_formgrader"] = page_i.request.get(f"{hub.url}/user/{term.instructor}/formgrader").status


def _walk_the_term(browser, term, hub, timings, found):
    for course in COURSES:
        term.as_instructor_ok("nbgrader", "release_assignment", ASSIGNMENT, "--course", course, course=course)
    page_a = _students(browser, term, hub, timings, found)
    started = time.monotonic()
    for course in COURSES:
        term.as_instructor_ok("nbgrader", "collect", ASSIGNMENT, "--course", course, course=course)
    timings["collect_s"] = time.monotonic() - started
    found["collected"] = {
        course: {student: answer_cells(term.course[course] / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
                 for student in (term.a, term.b)
                 if (term.course[course] / "submitted" / student / ASSIGNMENT).is_dir()}
        for course in COURSES
    }
    found["released_answers"] = answer_cells(term.course["conv101"] / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    _grade(term, timings, found)
    _feedback(page_a, term, hub, timings, found)
    _formgrader(browser, page_a, term, hub, timings, found)


def _outside_the_browser(term, found):
    """What a student's account can read of the course, and what a hub terminal's login shell finds."""
    source = term.course["conv101"] / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    found["student_reads_source"] = hk.run_as(term.a, ["cat", str(source)], term.env(term.a))
    found["student_lists_course"] = hk.run_as(term.a, ["ls", str(term.course["conv101"])], term.env(term.a))
    profile = term.work / "hub" / "profile.d" / "convlab.sh"
    shell = hk.run_as(term.a, ["bash", "--noprofile", "--norc", "-c",
                               f". /etc/profile >/dev/null 2>&1; . {profile}; command -v convlab"],
                      term.env(term.a, JUPYTERHUB_USER=term.a))
    found["terminal_convlab"] = shell.stdout.strip()
    found["instructor_home_gradebook"] = (term.accounts.home(term.instructor) / "gradebook.db").exists()


@pytest.fixture(scope="module")
def hub_term(request):
    venv, complaint = hk.ensure_venv()
    if venv is None:
        pytest.skip(f"could not build the hub's environment in {hk.HUB_VENV}:\n{complaint}")
    private = first_private_folder(venv / "bin" / "python")
    if private is not None:
        pytest.skip(f"{venv}'s interpreter lies in {private}, which other accounts cannot enter")
    work = Path(tempfile.mkdtemp(prefix="convlab-hub-", dir="/tmp"))  # pytest's own tmp is root's alone
    request.addfinalizer(lambda: shutil.rmtree(work, ignore_errors=True))
    os.chmod(work, 0o755)
    accounts = hk.Accounts()
    request.addfinalizer(accounts.remove)
    timings, found = {}, {}
    started = time.monotonic()
    term = Term(venv, accounts, work)
    for course in COURSES:
        term.as_instructor_ok("convlab", "new-course", str(term.course[course]),
                              "--solutions", str(ck.FIXTURE))
    timings["accounts_and_courses_s"] = time.monotonic() - started

    port, hub_port, proxy_port = hk.free_ports(3)
    service_port = hk.free_port_run(len(COURSES))
    specs = [CourseSpec(course, term.course[course], term.instructor) for course in COURSES]
    settings = HubSettings(port=port, hub_port=hub_port, proxy_api_port=proxy_port, service_port=service_port,
                           exchange=work / "exchange", venv=venv, proxy_command=hk.proxy_command())
    files = write_hub(work / "hub", specs, settings)
    make_exchange(settings.exchange)
    started = time.monotonic()
    hub = hk.Hub(venv, files.config, f"http://127.0.0.1:{port}", work / "jupyterhub.log")
    request.addfinalizer(hub.stop)
    hub.wait_ready()
    timings["hub_start_s"] = time.monotonic() - started

    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            _walk_the_term(browser, term, hub, timings, found)
        except BaseException:
            ARTIFACTS.mkdir(exist_ok=True)
            pages = [page for context in browser.contexts for page in context.pages]
            for number, page in enumerate(pages):
                page.screenshot(path=str(ARTIFACTS / f"e2e-hub-failed-{number}.png"))
            print(f"jupyterhub's log:\n{hub.log_tail()}")
            raise
        finally:
            browser.close()
    _outside_the_browser(term, found)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "e2e-hub.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=2))
    print("hub term timings (s): " + ", ".join(f"{k}={v:.1f}" for k, v in timings.items()))
    return term, found


def test_students_fetch_and_submit_through_the_hub(hub_term):
    term, found = hub_term
    assert "Assignment List" in found["menu_a"]
    assert not {"Formgrader", "Course List", "Create assignment"} & set(found["menu_a"]), found["menu_a"]
    assert sorted(found["courses_offered"]) == ["conv101", "conv102"], found["courses_offered"]
    assert found["fetched_a"] == [f"conv101/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"conv102/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]


def test_two_courses_with_the_same_assignment_keep_submissions_apart(hub_term):
    term, found = hub_term
    collected, released = found["collected"], found["released_answers"]
    assert set(collected["conv101"]) == {term.a, term.b} and set(collected["conv102"]) == {term.a}, collected
    assert collected["conv101"][term.a] != released, "A's answer did not reach conv101"
    assert collected["conv102"][term.a] == released, "A's conv101 answer landed in conv102"
    assert collected["conv101"][term.b] == released


def test_the_instructor_grades_with_convlab_as_themself(hub_term):
    term, found = hub_term
    scores = {row["student_id"]: float(row["score"]) for row in found["grades"]}
    assert scores == {term.a: 4.0, term.b: 0.0}, f"{found['grading_output']}\n{found['grading_report']}"


def test_grading_ran_sandboxed_as_the_instructor(hub_term):
    term, found = hub_term
    if "sandbox_refused" in found:
        pytest.skip("the grading sandbox cannot run as a non-root account on this host, so the term was graded "
                    f"with --no-sandbox:\n{found['sandbox_refused']}")


def test_the_student_fetches_feedback_with_the_score(hub_term):
    term, found = hub_term
    assert found["feedback"] is not None, "Fetch Feedback brought no feedback page"
    assert "Score: 4.0 / 4.0" in found["feedback"]


def test_formgrader_service_is_the_course_staffs_only(hub_term):
    term, found = hub_term
    status, url = found["formgrader_instructor"]
    assert status == 200 and "/services/conv101/formgrader" in url, found["formgrader_instructor"]
    submissions = {s["student"]: s["score"] for s in found["formgrader_submissions"]}
    assert submissions == {term.a: 4.0, term.b: 0.0}, found["formgrader_submissions"]
    assert found["formgrader_student"] == 403
    assert "/services/conv101/" in found["services_menu_instructor"]
    assert "/services/conv101/" not in found["services_menu_student"][1]


def test_the_instructors_own_server_makes_no_stray_gradebook(hub_term):
    term, found = hub_term
    assert found["own_formgrader"] == 404
    assert "Create assignment" in found["menu_instructor"] and "Formgrader" not in found["menu_instructor"]
    assert not found["instructor_home_gradebook"]


def test_students_cannot_read_the_course(hub_term):
    term, found = hub_term
    for key in ("student_reads_source", "student_lists_course"):
        result = found[key]
        assert result.returncode != 0 and "Permission denied" in result.stderr, (key, result.stdout[:200])


def test_a_hub_terminal_finds_convlab(hub_term):
    term, found = hub_term
    assert found["terminal_convlab"] == str(term.venv / "bin" / "convlab")

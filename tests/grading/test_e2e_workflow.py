"""A term's round trip through nbgrader's own tools, the learner's side in a real browser.

A course from `convlab new-course`, a filesystem exchange in a temporary folder; the learner's
JupyterLab (as `make lab` configures it) on loopback, driven through Chromium: fetch from the
Assignment List, answer (a flipped kernel), Validate — the dialog shows convlab's message —
and Submit. Then the instructor's commands: `nbgrader collect`, `convlab grade` (which makes the
feedback with nbgrader's generate_feedback), `nbgrader release_feedback`; the learner fetches the
feedback from the Assignment List and it shows the right score and no hidden source. The
instructor's lab (as `make lab-instructor` configures it) lists the submission with that score in
the formgrader. Servers stop by process group. Timings go to artifacts/e2e-workflow.json.
"""
import json
import re
import time

import coursekit as ck
import nbformat
import pytest
from labkit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, INSTRUCTOR_CONFIG, LEARNER_CONFIG, Lab, skip_without_a_browser

from autograder.grading import learner_text
from autograder.grading.grade import grade

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
playwright_api = skip_without_a_browser()

COURSE_ID = "conv101"
STUDENT = "ana"
# The learner's own nbgrader settings (in their Jupyter config folder): where the exchange is,
# their name there, and a cache of their own.
LEARNER_NBGRADER = """c = get_config()  # noqa
c.Exchange.root = {exchange!r}
c.Exchange.cache = {cache!r}
c.CourseDirectory.student_id = {student!r}
"""


def button(page, scope, label):
    return page.locator(scope).get_by_role("button", name=label, exact=True)


def open_assignment_list(page, lab):
    page.goto(f"{lab.url}/lab/workspaces/e2e-workflow?token={lab.token}", timeout=120_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").get_by_text("Nbgrader", exact=True).click(timeout=120_000)
    menu = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
    shown = menu.all_inner_texts()
    page.get_by_text("Assignment List", exact=True).click()
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for(timeout=60_000)
    return shown


def fetch_answer_validate_submit(page, lab, answer, timings):
    started = time.monotonic()
    button(page, "#released_assignments_list", "Fetch").click(timeout=60_000)
    notebook = lab.root_dir / ck.ASSIGNMENT / f"{ck.ASSIGNMENT}.ipynb"
    page.locator("#fetched_assignments_list").get_by_text(ck.ASSIGNMENT).first.wait_for(timeout=60_000)
    assert notebook.exists(), "Fetch put no notebook in the learner's folder"
    timings["fetch_s"] = time.monotonic() - started
    nbformat.write(ck.fill_answers(nbformat.read(str(notebook), as_version=4), answer), str(notebook))

    started = time.monotonic()
    page.locator("#fetched_assignments_list").get_by_text(ck.ASSIGNMENT).first.click()  # shows its notebooks
    button(page, "#fetched_assignments_list", "Validate").first.click(timeout=60_000)
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=300_000)
    validation = dialog.inner_text()
    timings["validate_s"] = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-workflow-validate.png"))
    dialog.get_by_role("button").last.click()

    started = time.monotonic()
    button(page, "#fetched_assignments_list", "Submit").first.click()
    page.locator("#submitted_assignments_list").get_by_text(ck.ASSIGNMENT).first.wait_for(timeout=60_000)
    timings["submit_s"] = time.monotonic() - started
    return validation


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    where = tmp_path_factory.mktemp("term")
    course, opts = ck.exchange_course(where, COURSE_ID)
    answers = ck.solution_answers(course)
    flipped = ck.flipped(answers)

    home = where / STUDENT
    (home / "work").mkdir(parents=True)
    learner = Lab(home / "work", home, config_path=LEARNER_CONFIG, user_config={
        "nbgrader_config.py": LEARNER_NBGRADER.format(exchange=str(where / 'exchange'), cache=str(home / "cache"),
                                                      student=STUDENT)})
    timings, found = {}, {}
    try:
        learner.wait_ready()
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                found["menu"] = open_assignment_list(page, learner)
                found["validation"] = fetch_answer_validate_submit(page, learner, flipped, timings)
                found["page_text"] = page.locator("body").inner_text()

                started = time.monotonic()
                ck.nbgrader_ok(course, "collect", ck.ASSIGNMENT, *opts)
                assert grade(course, workers=2, timeout=120) == 0
                timings["collect_and_grade_s"] = time.monotonic() - started
                started = time.monotonic()
                ck.nbgrader_ok(course, "release_feedback", ck.ASSIGNMENT, *opts)
                page.reload()
                open_assignment_list(page, learner)
                button(page, "#submitted_assignments_list", "Fetch Feedback").first.click(timeout=60_000)
                pages = learner.root_dir / ck.ASSIGNMENT / "feedback"
                deadline = time.monotonic() + 60
                while not list(pages.glob(f"*/{ck.ASSIGNMENT}.html")) and time.monotonic() < deadline:
                    time.sleep(0.5)
                timings["release_and_fetch_feedback_s"] = time.monotonic() - started
                page.screenshot(path=str(ARTIFACTS / "e2e-workflow-feedback.png"))
            except BaseException:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "e2e-workflow-failed.png"))
                print(f"learner's JupyterLab log:\n{learner.log_tail()}")
                raise
            finally:
                browser.close()
        found["formgrader_for_learner"] = learner.get("/formgrader")[0]
    finally:
        learner.stop()

    instructor = Lab(course, where / "instructor", config_path=INSTRUCTOR_CONFIG)
    try:
        instructor.wait_ready()
        status, body = instructor.get(f"/formgrader/api/submissions/{ck.ASSIGNMENT}")
        found["formgrader"] = (status, json.loads(body) if status == 200 else body[-2000:])
    finally:
        instructor.stop()
    (ARTIFACTS / "e2e-workflow.json").write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=2))
    print(f"round trip: {timings}")
    return {"course": course, "home": home / "work", "found": found}


def test_the_learners_lab_shows_the_learners_tools_only(term):
    menu = term["found"]["menu"]
    assert "Assignment List" in menu
    assert not {"Formgrader", "Course List", "Create Assignment"} & set(menu), menu
    assert term["found"]["formgrader_for_learner"] == 404
    assert "official Jupyter news" not in term["found"]["page_text"]


def test_validate_shows_convlabs_message_for_a_wrong_answer(term):
    validation = term["found"]["validation"]
    assert "kernel flipped" in validation, validation
    assert all(len(line) <= 80 for line in validation.splitlines()), "a line too wide for the dialog"


def test_the_fetched_feedback_shows_the_score_and_no_hidden_source(term):
    pages = list((term["home"] / ck.ASSIGNMENT / "feedback").glob(f"*/{ck.ASSIGNMENT}.html"))
    assert len(pages) == 1, "Fetch Feedback brought no feedback page"
    page = pages[0].read_text()
    assert re.search(r"Score: 1\.0 / 4\.0", page) and "Likely mistake: kernel flipped" in page
    source = nbformat.read(str(term["course"] / "source" / ck.ASSIGNMENT / f"{ck.ASSIGNMENT}.ipynb"), as_version=4)
    hidden = [part for part in learner_text.hidden_parts(source) if len(part) >= 8]
    assert hidden and not any(part in page for part in hidden)


def test_the_formgrader_lists_the_submission_with_that_score(term):
    status, submissions = term["found"]["formgrader"]
    assert status == 200, submissions
    ana = [s for s in submissions if s["student"] == STUDENT]
    assert len(ana) == 1 and ana[0]["score"] == 1.0 and ana[0]["max_score"] == 4.0, ana

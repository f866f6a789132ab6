"""A lesson figure in JupyterLab, as a screen reader meets it: Chromium's accessibility tree names the
picture by its description.

Starts a JupyterLab on a loopback port, runs a lesson figure's cells in Chromium through Playwright,
finds the image by its role and accessible name, and leaves a screenshot in artifacts/e2e-alt-text.png.
"""
import re

import matplotlib
import nbformat
import pytest
import torch
from labkit import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LEARNER_CONFIG, Lab, browser_env, skip_without_a_browser

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

playwright_api = skip_without_a_browser()

CELLS = ["%matplotlib inline\nimport torch\nfrom convlab.viz import padding as padviz",
         "small = torch.arange(1.0, 13.0).reshape(3, 4)\nfig = padviz.padding_modes_figure(small, padding=2)"]


def expected_description() -> str:
    """The description the kernel's figure gets: the same function, the same input, in English."""
    matplotlib.use("Agg")
    from convlab.i18n import in_language
    from convlab.viz.describe import description
    from convlab.viz.padding import padding_modes_figure

    with in_language("en"):
        return description(padding_modes_figure(torch.arange(1.0, 13.0).reshape(3, 4), padding=2))


def test_a_lesson_figures_accessible_name_is_its_description(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVLAB_LANG", raising=False)
    root = tmp_path / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, root / "figure.ipynb")
    lab = Lab(root, tmp_path / "home", config_path=LEARNER_CONFIG)
    try:
        lab.wait_ready()
        with playwright_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                env=browser_env(tmp_path / "browser"))
            try:
                _check_the_figure(browser.new_page(viewport={"width": 1400, "height": 1000}), lab)
            finally:
                browser.close()
    finally:
        lab.stop()


def _check_the_figure(page, lab):
    page.goto(f"{lab.url}/lab/workspaces/e2e-alt/tree/figure.ipynb?token={lab.token}", timeout=120_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=120_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
    output = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea")
    output.locator("img").first.wait_for(timeout=120_000)
    text = expected_description()
    picture = page.get_by_role("img", name=text, exact=True)
    assert picture.count() == 1, output.inner_html()[:300]
    assert picture.evaluate("img => img.naturalWidth") > 300  # the figure itself, not a broken image
    picture.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-alt-text.png"))

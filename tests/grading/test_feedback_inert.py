"""A learner's HTML, Markdown, SVG, LaTeX and JavaScript reach nbgrader's feedback page (and
formgrader) as text or not at all: `autograder.grading.inert` on hand-built notebooks, rendered by
nbconvert as nbgrader's templates render them, then `convlab grade` on a hostile submission. The
instructor's Markdown, pictures, plain text and the grader's verdicts still show."""
import copy
import html
from html.parser import HTMLParser

import coursekit as ck
import nbformat
import pytest
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from autograder.grading import inert
from autograder.sandbox import bubblewrap as sandbox

pytestmark = pytest.mark.grading

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
LOCKED = {"nbgrader": {"grade": False, "grade_id": "intro", "locked": True, "schema_version": 3, "solution": False,
                       "task": False}}
WRITTEN = {"nbgrader": {"grade": True, "grade_id": "explain", "locked": False, "points": 1, "schema_version": 3,
                        "solution": True, "task": False}}
INTRO = "# Problem set 1\n\nRead <b>carefully</b>."
LESSON = "## Padding\n\n$$O = \\lfloor (H + 2p - k) / s \\rfloor + 1$$\n\n| p | O |\n|---|---|\n| 0 | 3 |\n| 1 | 5 |"
ATTACHED = "![figure](attachment:fig.png)"


class Page(HTMLParser):
    """What a browser would run in a page: event-handler attributes, script bodies, script URLs."""

    def __init__(self, page: str):
        super().__init__()
        self.handlers, self.scripts, self.urls, self.text = [], [], [], []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}={value}")
            if name in ("src", "href") and (value or "").lower().lstrip().startswith(("javascript:", "data:text")):
                self.urls.append(value)

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def runs(self, marker: str) -> list[str]:
        """Everything that would run and mentions `marker`."""
        return [part for part in self.handlers + self.scripts + self.urls if marker in part]


def display(data: dict, metadata: dict | None = None, kind: str = "display_data") -> nbformat.NotebookNode:
    extra = {"execution_count": 1} if kind == "execute_result" else {}
    return new_output(kind, data=data, metadata=metadata or {}, **extra)


#: A figure's description, as a screen reader reads it: kept, and escaped where the page writes it.
ALT = 'A plot of 3 lines" onerror="window.pwned=13'
HOSTILE_OUTPUTS = [
    display({"text/html": "<script>window.pwned=1</script><b>x</b>", "text/plain": "<IPython.core.display.HTML object>"}),
    display({"text/markdown": "<img src=x onerror='window.pwned=2'>"}),
    display({"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'><script>window.pwned=3</script></svg>"}),
    display({"application/javascript": "window.pwned=4"}),
    display({"application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2, "version_minor": 0}}),
    display({"text/latex": "$\\href{javascript:window.pwned=5}{x}$", "text/plain": "x"}, kind="execute_result"),
    display({"text/vnd.mermaid": "graph TD; A-->B", "text/html": "<iframe src=javascript:window.pwned=6>"}),
    display({"image/png": PNG, "text/plain": "a dot"}, {"image/png": {"width": "1 onerror=window.pwned=7"}}),
]


def source_notebook() -> nbformat.NotebookNode:
    fig = new_markdown_cell(ATTACHED)
    fig.attachments = {"fig.png": {"image/png": PNG}}
    return new_notebook(cells=[new_markdown_cell(INTRO, metadata=copy.deepcopy(LOCKED)), new_markdown_cell(LESSON),
                               fig, new_markdown_cell("YOUR ANSWER HERE", metadata=copy.deepcopy(WRITTEN)),
                               new_code_cell("x = 1")])


def graded_notebook() -> nbformat.NotebookNode:
    """A restored, run submission: the instructor's cells, the learner's answers, extra cells and outputs."""
    nb = source_notebook()
    nb.cells[2].attachments = {"fig.png": {"image/svg+xml": "<svg onload='window.pwned=8'/>"}}
    nb.cells[3].source = "My answer: <img src=x onerror=alert(1)> <script>window.pwned=9</script>"
    picture = display({"image/png": PNG, "text/plain": "<Figure>"},
                      {"image/png": {"width": 200, "height": 100, "alt": ALT}})
    nb.cells[4].outputs = [*copy.deepcopy(HOSTILE_OUTPUTS), copy.deepcopy(picture),
                           new_output("stream", name="stdout", text="<script>window.pwned=10</script>\n")]
    notes = new_markdown_cell("Notes <img src=x onerror=alert(1)>\n<script>window.pwned=11</script>\n```mermaid\n"
                              "graph TD; A-->B\n```")
    notes.attachments = {"x.png": {"image/png": PNG}}
    nb.cells += [notes, new_raw_cell("<script>window.pwned=12</script>", metadata={"raw_mimetype": "text/html"})]
    return nb


def rendered(nb: nbformat.NotebookNode) -> str:
    """The page nbconvert makes, with the classic template nbgrader's feedback and formgrader extend
    (their Markdown cells are rendered as it renders them, unsanitised)."""
    return HTMLExporter(template_name="classic").from_notebook_node(nb)[0]


def test_rich_outputs_become_text_and_pictures_stay():
    shown = inert.for_pages(graded_notebook(), source_notebook()).cells[4].outputs
    assert all(set(output.get("data", {})) <= {"text/plain", "image/png", "image/jpeg"} for output in shown)
    texts = [output.data["text/plain"] for output in shown[:7]]
    assert texts[0] == "<IPython.core.display.HTML object>"  # its own plain form
    assert texts[1] == "<img src=x onerror='window.pwned=2'>"  # none: its source, as text
    assert texts[3] == "window.pwned=4" and '"model_id": "m"' in texts[4]
    assert shown[5].output_type == "execute_result" and texts[5] == "x"
    dot, picture, stream = shown[7:]
    assert dot.data == {"image/png": PNG, "text/plain": "a dot"} and dot.metadata == {}  # its width was no number
    assert picture.data["image/png"] == PNG and picture.metadata == {"image/png": {"width": 200, "height": 100,
                                                                                   "alt": ALT}}
    assert stream.output_type == "stream" and stream.text == "<script>window.pwned=10</script>\n"


def test_a_learners_text_cells_show_as_typed_and_the_instructors_render():
    graded = graded_notebook()
    cells = inert.for_pages(graded, source_notebook()).cells
    intro, lesson, figure, answer, _, notes, raw = cells
    assert (intro.source, intro.metadata) == (INTRO, LOCKED) and lesson.source == LESSON
    assert figure.source == ATTACHED and figure.attachments == {"fig.png": {"image/png": PNG}}  # the instructor's
    assert answer.source == f"```\n{graded.cells[3].source}\n```" and answer.metadata == WRITTEN
    assert notes.source == f"````\n{graded.cells[5].source}\n````" and "attachments" not in notes
    assert raw.cell_type == "markdown" and raw.source == "```\n<script>window.pwned=12</script>\n```"
    assert graded.cells[5].attachments and graded.cells[3].source.startswith("My answer")  # the input is kept


@pytest.mark.filterwarnings("ignore:Your element with mimetype")  # the widget, rendered before
def test_nothing_a_learner_made_runs_in_the_rendered_page():
    before = Page(rendered(graded_notebook()))
    assert len(before.runs("pwned")) >= 6  # what nbconvert alone does with them
    page = rendered(inert.for_pages(graded_notebook(), source_notebook()))
    parsed = Page(page)
    assert parsed.runs("pwned") == [] and parsed.runs("alert") == [] and parsed.urls == []
    assert "&lt;script&gt;window.pwned=11&lt;/script&gt;" in page and "My answer: &lt;img src=x" in page
    assert 'class="mermaid"' not in page
    assert "<h1" in page and "<b>carefully</b>" in page and "<table>" in page and "\\lfloor" in page
    assert page.count(f"data:image/png;base64,{PNG}") == 3  # two outputs and the instructor's attachment
    assert 'width="200"' in page or "width=200" in page
    assert ALT in _alts(page)  # a screen reader's text, whole, and only an attribute's value


def _alts(page: str) -> list[str]:
    """The alt text of every image of a page, as a browser parses it."""
    from html.parser import HTMLParser

    class Images(HTMLParser):
        found: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.found.append(dict(attrs).get("alt"))

    parser = Images()
    parser.found = []
    parser.feed(page)
    return parser.found


def test_counts_and_fields_a_page_writes_unescaped_are_typed():
    nb = new_notebook(cells=[new_code_cell("1")])
    cell = nb.cells[0]
    cell.execution_count = "<script>window.pwned=1</script>"
    cell.outputs = [display({"text/plain": "1"}, kind="execute_result"),
                    new_output("stream", name="<b>", text="x"),
                    new_output("error", ename="E", evalue="<b>v</b>", traceback=["line <i>1</i>"]),
                    {"output_type": "update_display_data", "data": {"text/html": "<script>"}}]
    cell.outputs[0].execution_count = "<img src=x onerror=alert(1)>"
    shown = inert.for_pages(nb, new_notebook()).cells[0]
    assert shown.execution_count is None and shown.outputs[0].execution_count is None
    assert [o.output_type for o in shown.outputs] == ["execute_result", "error"]
    page = rendered(inert.for_pages(nb, new_notebook()))
    assert "pwned" not in page and "onerror" not in page and "line &lt;i&gt;1&lt;/i&gt;" in page


@pytest.mark.parametrize("text", ["plain", "a ``` run\n````\nclosing?", "<script>x</script>\n```", "`", ""])
def test_a_code_block_shows_its_text_whatever_backticks_it_holds(text):
    block = inert.as_code_block(text)
    page = markdown2html_mistune(block)
    if text:
        assert page.count("<pre><code>") == 1 and html.unescape(page).count(text) == 1
    assert "<script" not in page


HOSTILE_CELL = """
from IPython.display import HTML, SVG, Javascript, Markdown, display
display(HTML("<script>window.pwned=1</script><b>x</b>"))
display(Markdown("<img src=x onerror='window.pwned=2'>"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned=3</script></svg>'))
display(Javascript("window.pwned=4"))
display({"text/html": "<img src=x onerror=window.pwned=5>"}, raw=True)
display({"image/png": "%s", "text/plain": "a dot"}, raw=True, metadata={"image/png": {"width": "1 onerror=window.pwned=6"}})
""" % PNG


@pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}")
def test_convlab_grade_feedback_shows_a_hostile_learners_markup_as_text(tmp_path):
    from autograder.grading.grade import grade

    course = ck.make_course(tmp_path)
    answers = ck.solution_answers(course)
    path = ck.write_submission(course, "mallory", {**answers, "corr2d": answers["corr2d"] + "\n" + HOSTILE_CELL})
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.insert(1, new_markdown_cell("Notes <img src=x onerror='window.pwned=7'> <script>window.pwned=8</script>"))
    nb.cells.insert(2, new_raw_cell("<script>window.pwned=9</script>", metadata={"raw_mimetype": "text/html"}))
    nbformat.write(nb, str(path))
    (path.parent / "notes.HTML").write_text("<script>window.pwned=10</script>")
    assert grade(course, workers=1, timeout=120) == 0

    pages = course / "feedback" / "mallory" / ck.ASSIGNMENT
    assert sorted(p.name for p in pages.iterdir() if p.suffix.lower() == ".html") == ["ps1.html"]
    page = (pages / "ps1.html").read_text()
    parsed = Page(page)
    assert parsed.handlers == [] and parsed.runs("pwned") == [] and "<script>window.pwned" not in page
    assert "&lt;script&gt;window.pwned=8&lt;/script&gt;" in page  # the learner's cell, as text
    assert "(Score: 4.0 / 4.0)" in page and "convlab grade: passed, 2 / 2 points" in page
    assert any(heading.strip() == "Problem set 1" for heading in parsed.text)
    assert f"data:image/png;base64,{PNG}" in page
    graded = nbformat.read(str(course / "autograded" / "mallory" / ck.ASSIGNMENT / "ps1.ipynb"), as_version=4)
    data = [output.get("data", {}) for cell in graded.cells for output in cell.get("outputs", [])]
    assert set().union(*data) == {"text/plain", "text/html", "image/png"}
    assert all("convlab-verdict" in shown["text/html"] for shown in data if "text/html" in shown)  # the grader's

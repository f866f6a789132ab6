"""Every figure says what it shows: the failure picture's difference pattern in words (from real wrong
outputs, in both languages), the text on a displayed figure (text/plain, the PNG's alt, an <img alt>),
a lesson figure run in a kernel and exported by nbconvert, and the feedback page keeping alt text."""
import ast
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from convlab.i18n import in_language  # noqa: E402
from convlab.viz import describe as described  # noqa: E402
from convlab.viz.failure import allowed_error, differs, failure_figure  # noqa: E402
from convlab.viz.mismatch import where_they_differ  # noqa: E402
from convlab.viz.padding import padding_modes_figure  # noqa: E402

# The Chinese descriptions are checked here, not drawn: labels in DejaVu Sans may lack their glyphs.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")

ROOT = Path(__file__).resolve().parents[1]
VIZ = ROOT / "convlab" / "viz"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- real wrong outputs

def _generator():
    return torch.Generator().manual_seed(0)


def _corr(X, K, padding=0, mode="constant"):
    padded = F.pad(X[None, None], (padding,) * 4, mode=mode) if padding else X[None, None]
    return F.conv2d(padded, K[None, None])[0, 0]


def _inputs():
    g = _generator()
    return torch.randn(6, 6, generator=g, dtype=torch.float64), torch.randn(3, 3, generator=g, dtype=torch.float64)


def pad_forgetting_the_right_side():
    """A learner's constant padding that fills `value` on the left, top and bottom, not on the right."""
    x = torch.randn(3, 3, generator=_generator(), dtype=torch.float64)
    out = torch.zeros(5, 5, dtype=torch.float64)
    out[1:4, 1:4] = x
    out[:, :1], out[:1, :], out[4:, :] = 2.5, 2.5, 2.5
    return out, F.pad(x, (1, 1, 1, 1), value=2.5)


def corr2d_skipping_the_first_row():
    """Its loop over output rows starts at 1: row 0 stays zero."""
    X, K = _inputs()
    want = _corr(X, K)
    got = torch.zeros_like(want)
    for i in range(1, want.shape[0]):
        for j in range(want.shape[1]):
            got[i, j] = (X[i:i + 3, j:j + 3] * K).sum()
    return got, want


def corr2d_one_position_short():
    """One loop over the flattened output positions that stops one short: the last stays zero."""
    X, K = _inputs()
    want = _corr(X, K)
    got = torch.zeros(want.numel(), dtype=torch.float64)
    for p in range(want.numel() - 1):
        i, j = divmod(p, want.shape[1])
        got[p] = (X[i:i + 3, j:j + 3] * K).sum()
    return got.view(want.shape), want


def corr2d_padding_by_replicate():
    """padding=1 filled by repeating the edge instead of zeros: every output that reads the padding."""
    X, K = _inputs()
    return _corr(X, K, 1, "replicate"), _corr(X, K, 1)


def corr2d_with_a_relu():
    """An activation applied that the exercise does not ask for: wherever torch's output is negative."""
    X, K = _inputs()
    want = _corr(X, K)
    return want.clamp(min=0), want


def corr2d_with_the_kernel_flipped():
    """True convolution instead of cross-correlation."""
    X, K = _inputs()
    return _corr(X, K.flip(0, 1)), _corr(X, K)


def avg_pool_ceil_mode_dividing_by_the_window():
    """ceil_mode's overhanging windows averaged over k² cells (zeros included) instead of those inside."""
    x = torch.randn(1, 1, 5, 5, generator=_generator(), dtype=torch.float64)
    return F.avg_pool2d(F.pad(x, (0, 1, 0, 1)), 2)[0, 0], F.avg_pool2d(x, 2, ceil_mode=True)[0, 0]


def conv1d_missing_the_last_output():
    x = torch.randn(1, 1, 12, generator=_generator(), dtype=torch.float64)
    k = torch.randn(1, 1, 3, generator=_generator(), dtype=torch.float64)
    want = F.conv1d(x, k)[0, 0]
    return torch.cat([want[:-1], torch.zeros(1, dtype=torch.float64)]), want


MISTAKES = [
    (pad_forgetting_the_right_side, "3 of 25 values differ, all in the last column", "25 个值中有 3 个不同，全部在末列"),
    (corr2d_skipping_the_first_row, "4 of 16 values differ, all in the first row", "16 个值中有 4 个不同，全部在首行"),
    (corr2d_one_position_short, "1 of 16 values differs, at row 3, column 3 (the bottom-right corner)",
     "16 个值中有 1 个不同，位于第 3 行、第 3 列（右下角）"),
    (corr2d_padding_by_replicate,
     "20 of 36 values differ, all on the border (the outermost rows and columns); the inside matches",
     "36 个值中有 20 个不同，全部在边框上（最外圈的行和列），内部一致"),
    (corr2d_with_a_relu, "8 of 16 values differ, scattered over 4 of 4 rows and 4 of 4 columns",
     "16 个值中有 8 个不同，散布在 4 行中的 4 行、4 列中的 4 列"),
    (corr2d_with_the_kernel_flipped, "all 16 values differ", "全部 16 个值都不同"),
    (avg_pool_ceil_mode_dividing_by_the_window, "5 of 9 values differ, all in the last row and the last column",
     "9 个值中有 5 个不同，全部在末行和末列"),
    (conv1d_missing_the_last_output, "1 of 10 values differs, at position 9", "10 个值中有 1 个不同，位于位置 9"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("mistake, en, zh", MISTAKES, ids=[m[0].__name__ for m in MISTAKES])
def test_the_difference_pattern_of_a_real_mistake(mistake, en, zh, lang):
    got, want = mistake()
    mask = differs(got, want, allowed_error(got, want))
    with in_language(lang):
        assert where_they_differ(mask.numpy()) == (en if lang == "en" else zh)


def test_float32_rounding_is_not_a_difference():
    X, K = _inputs()
    want = _corr(X, K)
    assert not differs(want.float(), want, allowed_error(want.float(), want)).any()


@pytest.mark.parametrize("cells, shape, said", [
    ([(0, 0), (4, 4)], (5, 5), "2 of 25 values differ, at the top-left corner and the bottom-right corner"),
    ([(0, 0), (0, 4), (4, 0), (4, 4)], (5, 5), "4 of 25 values differ, at the four corners"),
    ([(r, c) for r in range(6) for c in (0, 5)], (6, 6), "12 of 36 values differ, all in the first and last columns"),
    ([(r, c) for r in range(8) for c in (6, 7)], (8, 8), "16 of 64 values differ, all in the last 2 columns"),
    ([(2, 2), (3, 4), (4, 3)], (8, 8), "3 of 64 values differ, all within rows 2–4, columns 2–4"),
    ([(1, 0), (1, 5), (4, 2)], (6, 6), "3 of 36 values differ, all in rows 1 and 4"),
    ([(2, 3)], (5, 5), "1 of 25 values differs, at row 2, column 3"),
])
def test_patterns_by_their_shape(cells, shape, said):
    mask = np.zeros(shape, dtype=bool)
    for cell in cells:
        mask[cell] = True
    with in_language("en"):
        assert where_they_differ(mask) == said


def test_a_ring_two_deep_is_the_border_of_a_padding_of_two():
    mask = np.pad(np.zeros((3, 3), dtype=bool), 2, constant_values=True)
    with in_language("en"):
        assert where_they_differ(mask).endswith("all in the outermost 2 rows and columns; the inside matches")
    with in_language("zh"):
        assert where_they_differ(mask).endswith("全部在最外 2 圈的行和列中，内部一致")


def test_the_failure_picture_says_which_map_it_shows_and_how_many_differ():
    want = torch.randn(2, 3, 5, 5, generator=_generator(), dtype=torch.float64)
    got = want.clone().float()
    got[1, 2, :, 4] += 1.0   # the largest difference: this map is the one drawn
    got[0, 1, :, 4] += 0.5
    with in_language("en"):
        said = described.description(failure_figure(got, want, "conv2d, case 1 of 4"))
    assert said == ("Your output, torch's output and yours − torch's as 5×5 maps: 5 of 25 values differ, all in the "
                    "last column. The map is output[1, 2, :, :], the one with the largest difference; 2 of 6 maps "
                    "differ.")
    with in_language("zh"):
        said = described.description(failure_figure(got, want, "conv2d"))
    assert said == ("你的输出、torch 的输出及二者之差（你的 − torch 的），均为 5×5：25 个值中有 5 个不同，全部在末列。"
                    "所示为 output[1, 2, :, :]，即差异最大的一幅；6 幅中有 2 幅不同。")


# ----------------------------------------------------------------------------- every figure, described

def _draws_a_figure(function: ast.FunctionDef) -> bool:
    calls = {getattr(node.func, "attr", getattr(node.func, "id", "")) for node in ast.walk(function)
             if isinstance(node, ast.Call)}
    return bool(calls & {"subplots", "figure"})


def test_every_figure_function_of_convlab_viz_describes_its_figure():
    """A function that makes a figure calls `describe` (the grid helpers only draw on axes given them)."""
    undescribed = []
    for path in sorted(VIZ.glob("*.py")):
        if path.name in ("grid.py", "describe.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and _draws_a_figure(node) and "describe(" not in ast.unparse(node):
                undescribed.append(f"{path.name}:{node.name}")
    assert undescribed == []


def test_a_lesson_figure_is_described_in_the_learners_language():
    small = torch.arange(1.0, 13.0).reshape(3, 4)
    with in_language("en"):
        assert described.description(padding_modes_figure(small, padding=2)) == (
            "Input 3×4 padded by 2 on every side to 7×8 in four modes: zeros (constant), reflect, replicate and "
            "circular; the input is outlined, the padding greyed.")
    with in_language("zh"):
        assert described.description(padding_modes_figure(small, padding=2)) == (
            "输入 3×4 每边填充 2，变为 7×8，共四种模式：零填充（constant）、reflect、replicate 和 circular；"
            "原输入加框，填充部分为灰色。")


# ----------------------------------------------------------------------------- the display

def _shell(formats=("png",)):
    """A stand-in for an IPython kernel's shell: its display formatter, set up as the inline backend sets it."""
    from IPython.core.formatters import DisplayFormatter
    from IPython.core.pylabtools import select_figure_formats

    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    select_figure_formats(shell, set(formats))
    return shell


def _figure(text=None):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return described.describe(fig, text) if text else fig


def test_a_described_figure_is_shown_with_its_text_as_plain_text_alt_and_html():
    shell = _shell()
    png = shell.display_formatter.formatters["image/png"]
    drawn = []
    original = png.lookup_by_type(matplotlib.figure.Figure)
    png.for_type(matplotlib.figure.Figure, lambda fig: drawn.append(fig) or original(fig))
    assert described.install(shell)
    text = 'A rising line, "x" < y'
    data, metadata = shell.display_formatter.format(_figure(text))
    assert data["text/plain"] == text and metadata["image/png"] == {"alt": text}
    assert data["text/html"] == (f'<img src="data:image/png;base64,{data["image/png"]}" '
                                 f'alt="A rising line, &quot;x&quot; &lt; y">')
    assert len(drawn) == 1  # the HTML and the PNG share one drawing


def test_an_undescribed_figure_is_shown_as_before():
    shell = _shell()
    described.install(shell)
    data, metadata = shell.display_formatter.format(_figure())
    assert set(data) == {"text/plain", "image/png"} and data["text/plain"].startswith("<Figure size")
    assert "image/png" not in metadata


def test_the_wrap_comes_back_after_the_backend_resets_its_printers():
    """`%config InlineBackend.figure_formats = ['retina']` registers a new printer; the next figure's
    `describe` wraps it again, sizes kept."""
    shell = _shell()
    described.install(shell)
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(shell, {"retina"})
    fig = _figure("twice as sharp")
    assert described.install(shell)
    data, metadata = shell.display_formatter.format(fig)
    sizes = {key: metadata["image/png"][key] for key in ("width", "height")}
    assert metadata["image/png"]["alt"] == "twice as sharp" and all(sizes.values())
    assert f'width="{sizes["width"]}" height="{sizes["height"]}" alt="twice as sharp"' in data["text/html"]


def test_svg_only_figures_are_left_alone():
    assert not described.install(_shell(("svg",)))


# ----------------------------------------------------------------------------- a kernel, and nbconvert

class Images(HTMLParser):
    def __init__(self, page: str):
        super().__init__()
        self.alts = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


def _lesson_cells(edition: str) -> list:
    """Lesson 02's set-up cell and its padding-modes figure cell, as the edition writes them."""
    folder = ROOT / edition / "02_padding_stride"
    nb = nbformat.read(next(folder.glob("*.ipynb")), as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    return nb, [code[0], next(cell for cell in code if "padding_modes_figure" in cell.source)]


@pytest.mark.notebooks
@pytest.mark.parametrize("edition, said", [
    ("lessons", "Input 3×4 padded by 2 on every side to 7×8 in four modes"),
    ("lessons/zh", "输入 3×4 每边填充 2，变为 7×8，共四种模式"),
], ids=["en", "zh"])
def test_a_lesson_figure_in_a_kernel_carries_its_text_and_nbconvert_writes_it_as_alt(tmp_path, monkeypatch,
                                                                                   edition, said):
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    monkeypatch.delenv("CONVLAB_LANG", raising=False)
    lesson, cells = _lesson_cells(edition)
    nb = nbformat.v4.new_notebook(cells=cells, metadata=lesson.metadata)
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)  # the kernel reads the edition's language from the notebook beside it
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [out for out in nb.cells[1].outputs if "image/png" in out.get("data", {})]
    assert len(shown) == 1
    data, metadata = shown[0].data, shown[0].metadata
    text = data["text/plain"]
    assert text.startswith(said) and metadata["image/png"]["alt"] == text
    assert f'alt="{html.escape(text, quote=True)}"' in data["text/html"]
    for template in ("lab", "classic"):
        page = HTMLExporter(template_name=template).from_notebook_node(nb)[0]
        assert text in Images(page).alts, template


# ----------------------------------------------------------------------------- the feedback page

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


@pytest.mark.parametrize("given, kept", [
    (f'<img src="data:image/png;base64,{PNG}" alt="a red dot" width="20" onerror="alert(1)">',
     f'<img src="data:image/png;base64,{PNG}" alt="a red dot" width="20">'),
    ('<img src="https://tracker.example/p.png" alt="a red dot">', '<img alt="a red dot">'),
    ('<img src="//tracker.example/p.png" alt="x">', '<img alt="x">'),
    ('<img src="javascript:alert(1)" alt="x">', '<img alt="x">'),
    ('<img src="data:text/html;base64,PHNjcmlwdD4=" alt="x">', '<img alt="x">'),
    ('<a href="data:text/html,x">x</a>', "<a>x</a>"),
    ('<a href="da&#x74;a:text/html,x">x</a>', "<a>x</a>"),
    ('<a href="https://example.org" title="t">ok</a>', '<a href="https://example.org" title="t">ok</a>'),
])
def test_the_feedback_pages_sanitiser_keeps_an_inline_pictures_alt_text_only(given, kept):
    from autograder.grading.feedback import clean_html

    assert clean_html(given) == kept


def test_a_sanitised_feedback_page_shows_the_instructors_figure_with_its_alt_text():
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from autograder.grading.feedback import clean_html

    figure = nbformat.v4.new_markdown_cell("![Input 3×4 padded by 2](attachment:fig.png)")
    figure.attachments = {"fig.png": {"image/png": PNG}}
    config = Config({"HTMLExporter": {"template_name": "classic", "sanitize_html": True,
                                      "filters": {"clean_html": clean_html}}})
    page = HTMLExporter(config=config).from_notebook_node(nbformat.v4.new_notebook(cells=[figure]))[0]
    assert "Input 3×4 padded by 2" in Images(page).alts
    assert not re.search(r"&lt;img", page)

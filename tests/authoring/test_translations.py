"""Second editions: a translation replaces words only, is keyed to the English it was made from, and
`convlab build` refuses one that is missing, stale or changes code, naming the cell."""
import io
import re
import shutil
import tokenize
from pathlib import Path

import coursekit as ck
import nbformat
import pytest
from coursekit import FIXTURE, convlab

from autograder import cell_meta
from autograder.authoring import translations

pytestmark = pytest.mark.grading

REPO = Path(__file__).resolve().parents[2]


def comments_in_chinese(source: str) -> str:
    """`source` with each comment that is no nbgrader marker replaced by a Chinese one, and each display
    string (what it prints, a title) by a Chinese one keeping its prefix and f-string fields."""
    from autograder.authoring import display_text

    lines = source.split("\n")
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    printed = display_text._printed(source)
    for token in reversed(tokens):
        if token.type == tokenize.COMMENT and not translations._MARKER.search(token.string):
            replacement = "# 中文注释"
        elif token.type == tokenize.STRING and display_text.is_display(token, printed) and token.start[0] == token.end[0]:
            prefix = display_text._PREFIX.match(token.string).group(1)
            fields = "".join(f"{{{f}}}" for f in display_text._FIELD.findall(display_text._body(token.string)))
            replacement = f"{prefix}'中文{fields}'"
        else:
            continue
        row, col = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + replacement + line[token.end[1]:]
    return "\n".join(lines)


def chinese(cell) -> str:
    """A stand-in translation: Markdown's English words become 词 (code spans and math kept), code
    cells' comments and display strings Chinese."""
    if cell.cell_type != "markdown":
        return comments_in_chinese(cell.source)
    return "中文：" + re.sub(r"(`[^`]*`|\$[^$]*\$)|[A-Za-z]{2,}", lambda m: m.group(1) or "词", cell.source)


def complete(nb) -> dict:
    return {cell.id: {"en": translations.fingerprint(cell.source), "text": chinese(cell)}
            for cell in nb.cells if translations.needs_translation(cell)}


def cell(kind: str, source: str, **metadata):
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    return make(source, metadata=metadata)


@pytest.fixture
def lesson():
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell("markdown", "# Slide, multiply, sum"),
                cell("code", "x = torch.ones(3)  # three ones\nprint('shape', x.shape)"),
                cell("code", "y = x + 1"),
                cell("code", "def f(x):\n    # add one\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION",
                     nbgrader={"solution": True, "grade": False, "grade_id": "f"})]
    return nb


def test_a_complete_translation_changes_words_only(lesson):
    out, problems = translations.translate(lesson, complete(lesson), "zh", "t.zh.yml")
    assert problems == []
    assert out.cells[0].source == "中文：# 词, 词, 词"
    assert out.cells[1].source == "x = torch.ones(3)  # 中文注释\nprint('中文', x.shape)"
    assert out.cells[2].source == "y = x + 1"  # nothing to translate: the English as it is
    assert "### BEGIN SOLUTION" in out.cells[3].source and "# 中文注释" in out.cells[3].source
    assert [c.metadata for c in out.cells] == [c.metadata for c in lesson.cells]
    assert out.metadata["convlab"]["lang"] == "zh" and "convlab" not in lesson.metadata  # the source untouched


@pytest.mark.parametrize("spoil, reason", [
    (lambda e, nb: e.pop(nb.cells[0].id), "has no translation"),
    (lambda e, nb: e[nb.cells[0].id].update(en="0" * 12), "is stale"),
    (lambda e, nb: e[nb.cells[0].id].update(text="Slide, multiply, sum"), "is still in English"),
    (lambda e, nb: e[nb.cells[1].id].update(text="x = torch.ones(4)  # 三个一"), "changes code"),
    (lambda e, nb: e[nb.cells[1].id].update(text="x = torch.ones(3)  # 中文\nprint('形状', x.size)"), "changes code"),
    (lambda e, nb: e[nb.cells[3].id].update(text=e[nb.cells[3].id]["text"].replace("BEGIN SOLUTION", "开始")),
     "changes nbgrader's markers"),
    (lambda e, nb: e.update(gone={"en": "x", "text": "y"}), "no longer in the notebook"),
], ids=["missing", "stale", "english", "code", "string", "marker", "orphan"])
def test_a_translation_that_cannot_stand_for_its_cell_is_named(lesson, spoil, reason):
    entries = complete(lesson)
    spoil(entries, lesson)
    _, problems = translations.translate(lesson, entries, "zh", "t.zh.yml")
    assert len(problems) == 1 and reason in problems[0], problems
    assert problems[0].startswith("t.zh.yml: cell ")


@pytest.mark.parametrize("english, chinese, allowed", [
    ("print('shape', x.shape)", "print('形状', x.shape)", True),  # printed
    ("show(X, title='vertical edges, K = [1, -1]')", "show(X, title='竖直边缘，K = [1, -1]')", True),
    ("print(f'max |difference| {err:.1e}')", "print(f'与 torch 的最大差 {err:.1e}')", True),
    ("print(f'max |difference| {err:.1e}')", "print(f'与 torch 的最大差 {err:.2e}')", False),  # a field changed
    ("print(f'max |difference| {err:.1e}')", "print('与 torch 的最大差 {err:.1e}')", False),  # no longer an f-string
    ("F.pad(x, (1, 1), mode='reflect')", "F.pad(x, (1, 1), mode='反射')", False),  # a word of code
    ("kernels = {'one 5x5 layer': 5}\nkernels['one 5x5 layer']", "kernels = {'一层 5x5': 5}\nkernels['一层 5x5']", True),
])
def test_display_strings_may_be_translated_code_strings_may_not(english, chinese, allowed):
    assert (translations._code(english) == translations._code(chinese)) is allowed


def test_english_left_in_an_edition_is_found_by_words():
    from autograder.authoring import display_text

    assert display_text.english_in_code("print('input', tuple(x.shape), '-> output')") == ["input", "output"]
    assert display_text.english_in_code("print('输入', tuple(x.shape), '-> 输出')") == []
    assert display_text.english_in_code("print(f'{name:8s} 与 torch 的最大差')\nname = 'im2col'") == []
    assert display_text.english_in_code("x = F.pad(x, (1, 1), mode='reflect')") == []  # code, not display
    assert display_text.english_in_markdown("卷积核（kernel）在输入上滑动，见 `F.conv2d` 与 $n-k+1$。") == []
    assert display_text.english_in_markdown("见 d2l 的《动手学深度学习》和 [Convolution model step by step](https://x)。") == []
    assert display_text.english_in_markdown("卷积 slides the kernel over the input 然后求和。") == [
        "slides the kernel over the input"]


@pytest.mark.parametrize("spoil, reason", [
    (lambda e, nb: e[nb.cells[1].id].update(text="x = torch.ones(3)  # 三个一\nprint('all ones', x.shape)"),
     "prints or draws English: all"),  # "ones" is a name the code uses (torch.ones)
    (lambda e, nb: e[nb.cells[0].id].update(text="# 滑动、相乘、求和：slide the kernel over the whole input"),
     "keeps English prose: 'slide the kernel over the whole input'"),
], ids=["printed", "prose"])
def test_an_edition_that_still_shows_english_is_refused(lesson, spoil, reason):
    entries = complete(lesson)
    spoil(entries, lesson)
    _, problems = translations.translate(lesson, entries, "zh", "t.zh.yml")
    assert len(problems) == 1 and reason in problems[0], problems


def test_a_cell_that_only_prints_english_needs_a_translation():
    assert translations.needs_translation(cell("code", "print(f'max |difference| {err:.1e}')"))
    assert not translations.needs_translation(cell("code", "y = F.pad(x, (1, 1), mode='reflect')"))


def test_skeleton_adds_what_is_missing_or_stale_and_keeps_the_rest(tmp_path, lesson):
    path = tmp_path / "t.ipynb"
    nbformat.write(lesson, str(path))
    assert translations.skeleton(path, "zh") == 3
    assert translations.skeleton(path, "zh") == 0  # under way: left alone
    entries = translations.load(translations.translation_path(path, "zh"))
    entries[lesson.cells[0].id]["text"] = "# 滑动、相乘、求和"
    translations.write(translations.translation_path(path, "zh"), "t", "zh", entries)
    lesson.cells[0].source = "# Slide, multiply and sum"
    nbformat.write(lesson, str(path))
    assert translations.skeleton(path, "zh") == 1
    stale = translations.load(translations.translation_path(path, "zh"))[lesson.cells[0].id]
    assert stale == {"en": translations.fingerprint(lesson.cells[0].source), "text": "# Slide, multiply and sum\n",
                     "was": "# 滑动、相乘、求和\n"}


def unsummed(metadata) -> dict:
    """Cell metadata less nbgrader's checksum of the (translated) source."""
    return {**metadata, "nbgrader": {k: v for k, v in metadata.get("nbgrader", {}).items() if k != "checksum"}}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The fixture assignment with a complete Chinese translation, built once."""
    project = tmp_path_factory.mktemp("zh") / "project"
    shutil.copytree(FIXTURE, project / "solutions")
    source = project / "solutions/ps1/ps1.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    translations.write(translations.translation_path(source, "zh"), "ps1", "zh", complete(nb))
    result = convlab("build", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


def test_build_makes_the_chinese_edition_beside_the_english_one(project):
    english = cell_meta.read(project / "lessons/ps1/ps1.ipynb")
    zh = cell_meta.read(project / "lessons/zh/ps1/ps1.ipynb")
    assert (project / "lessons/zh/ps1/data.csv").exists() and not list((project / "lessons").rglob("*.yml"))
    assert zh.metadata["convlab"]["lang"] == "zh" and zh.cells[0].source.startswith("中文：")
    assert [unsummed(c.metadata) for c in zh.cells] == [unsummed(c.metadata) for c in english.cells]
    code = [(e.source, z.source) for e, z in zip(english.cells, zh.cells) if e.cell_type == "code"]
    assert all(translations._code(e) == translations._code(z) for e, z in code)  # only words differ
    assert any(e != z for e, z in code)  # its docstrings and prints are in Chinese
    assert cell_meta.total_points(zh) == cell_meta.total_points(english)
    assert convlab("build", "--check", cwd=project).returncode == 0


def test_an_english_cell_changed_since_its_translation_fails_the_check(project, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(project, copy)
    path = copy / "solutions/ps1/ps1.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].source += " Mind the edges."
    nbformat.write(nb, str(path))
    result = convlab("build", "--check", cwd=copy)
    assert result.returncode != 0
    assert f"cell '{nb.cells[2].id}' is stale" in result.stdout + result.stderr


def test_every_lesson_is_translated_from_its_current_english():
    problems = [line for path in sorted((REPO / "solutions").glob("*/*.ipynb"))
                for line in translations.problems(path, "zh")]
    assert problems == []


@pytest.fixture(scope="module")
def zh_course(project, tmp_path_factory):
    """A `--lang zh` course of the translated fixture, with a right and a blank submission."""
    from autograder.authoring.course import new_course

    course = new_course(tmp_path_factory.mktemp("zhcourse") / "course", project / "solutions", lang="zh")
    answers = ck.solution_answers(course)
    ck.write_submission(course, "right", answers)
    ck.write_submission(course, "blank")
    return course


def full_marks() -> dict[str, float]:
    source = cell_meta.read(FIXTURE / "ps1/ps1.ipynb")
    return {cell_meta.grade_id(c): cell_meta.points(c) for c in source.cells if cell_meta.is_test_cell(c)}


def test_a_chinese_course_holds_the_chinese_edition(zh_course):
    source = cell_meta.read(zh_course / "source/ps1/ps1.ipynb")
    assert source.metadata["convlab"]["lang"] == "zh" and source.cells[0].source.startswith("中文：")


@pytest.mark.parametrize("grader", ["nbgrader", "convlab", "convlab speaking English"])
def test_a_chinese_course_grades_like_the_english_one(zh_course, grader, tmp_path, monkeypatch):
    """Same points; the learner reads Chinese (the kernel's checks and, under convlab grade, the
    grader's verdicts), even where the instructor's CONVLAB_LANG says English, which the report keeps."""
    course = tmp_path / "course"
    shutil.copytree(zh_course, course)
    if grader == "nbgrader":
        result = ck.nbgrader(course, "autograde", ck.ASSIGNMENT)
        assert result.returncode == 0, result.stderr[-3000:]
    else:
        if grader.endswith("English"):
            monkeypatch.setenv("CONVLAB_LANG", "en")
        result = convlab("grade", str(course))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert ck.scores(course, "right") == full_marks()
    assert ck.scores(course, "blank") == {name: 0.0 for name in full_marks()}
    graded = cell_meta.read(course / "autograded" / "blank" / ck.ASSIGNMENT / f"{ck.ASSIGNMENT}.ipynb")
    errors = [out for cell in graded.cells for out in cell.get("outputs", []) if out.output_type == "error"]
    assert any("尚未作答" in out.evalue for out in errors), errors  # the kernel's checks spoke Chinese
    if grader != "nbgrader":
        verdicts = [out.data["text/plain"] for cell in graded.cells for out in cell.get("outputs", [])
                    if out.output_type == "display_data" and "convlab grade" in out.data.get("text/plain", "")]
        assert verdicts and all(v.startswith("convlab grade：未通过") and "尚未作答" in v for v in verdicts), verdicts
        report = (course / "grading-report.md").read_text(encoding="utf-8")
        assert "not answered yet" in report and "尚未作答" not in report, report[-1500:]


def test_an_unknown_language_for_the_grader_is_refused(zh_course, tmp_path, monkeypatch):
    course = tmp_path / "course"
    shutil.copytree(zh_course, course)
    monkeypatch.setenv("CONVLAB_LANG", "zh_CN")
    result = convlab("grade", str(course))
    assert result.returncode == 2 and "CONVLAB_LANG='zh_CN'" in result.stderr, result.stderr[-2000:]
    assert not (course / "autograded").exists()


def test_an_edition_without_translations_is_refused(tmp_path):
    from autograder.authoring.course import CourseError, new_course

    with pytest.raises(CourseError, match="ps1 has no translation into zh"):
        new_course(tmp_path / "course", FIXTURE, lang="zh")
    with pytest.raises(translations.TranslationError, match="lang: no edition in 'fr'"):
        new_course(tmp_path / "course", FIXTURE, lang="fr")
    assert not (tmp_path / "course").exists()


def test_the_lab_opens_on_a_page_linking_every_lesson_in_both_editions():
    page = (REPO / "lessons/README.md").read_text(encoding="utf-8")
    assert "--LabApp.default_url=/lab/tree/README.md" in (REPO / "Makefile").read_text()
    for lesson in sorted(p.name for p in (REPO / "solutions").iterdir() if list(p.glob("*.ipynb"))):
        for link in (f"({lesson}/{lesson}.ipynb)", f"(zh/{lesson}/{lesson}.ipynb)"):
            assert link in page, link
            assert (REPO / "lessons" / link.strip("()")).is_file(), link

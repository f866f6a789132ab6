"""What a translated edition shows its reader, and the English left in it.

A code cell's words a learner reads are its comments and its display strings: the text it prints
and the titles and labels of its figures. A display string is a string literal with a space in it
("vertical edges, K = [1, -1]", an f-string's "max |difference| {err:.1e}") or any string printed
(`print("input", ...)`); a string without a space that is not printed ("reflect", "ij,jk->ik") is
code. A translation may change display strings, keeping an f-string's fields and the literal's
prefix, so its edition prints and draws in its own language; the code around them stays the
instructor's.

English left over is found by words: a run of English words in a translated Markdown cell (outside
code, math, links, quoted titles and a parenthesised gloss), or an English word in a display string
of a translated code cell (names the code uses, and the words of `ALLOWED`, aside).
"""
from __future__ import annotations

import ast
import io
import re
import tokenize

#: Words an edition in another language keeps: names, units and abbreviations every reader knows.
ALLOWED = frozenset("""
CPU GPU CUDA cuDNN oneDNN MKL BLAS GEMM FFT FLOP FLOPs RGB NCHW ReLU LeNet AlexNet VGG ResNet ResNets
Inception MobileNet MobileNets Xception ShuffleNet WaveNet DeepLab PyTorch NumPy Python Jupyter
JupyterLab Colab nbgrader torch numpy matplotlib ipywidgets einsum im2col col2im Sobel Laplacian
Winograd ASPP HDC UCI MNIST CIFAR EEG LaTeX max min mean sum std inf nan True False None
""".split())
_FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
_ENGLISH_WORD = re.compile(r"(?<![A-Za-z0-9_.])[A-Za-z]{3,}(?![A-Za-z0-9_(])")
_PREFIX = re.compile(r"^([A-Za-z]*)")


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


def _printed(source: str) -> set[tuple[int, int]]:
    """Where the string literals passed straight to `print` start (row, col), in characters as the
    tokenizer counts them (`ast` counts a line's UTF-8 bytes)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    lines = source.split("\n")
    return {(arg.lineno, len(lines[arg.lineno - 1].encode()[:arg.col_offset].decode(errors="ignore")))
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
            for arg in node.args if isinstance(arg, (ast.Constant, ast.JoinedStr))}


def _body(literal: str) -> str:
    """A string literal's text without its prefix and quotes."""
    rest = literal[len(_PREFIX.match(literal).group(1)):]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    return rest[len(quote):len(rest) - len(quote)]


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def is_display(token: tokenize.TokenInfo, printed: set[tuple[int, int]]) -> bool:
    """A string a reader reads: with a space (a phrase), printed, or already translated (Chinese
    needs no spaces)."""
    body = _body(token.string) if token.type == tokenize.STRING else ""
    return token.type == tokenize.STRING and (" " in body or token.start in printed or bool(_CJK.search(body)))


def display_strings(source: str) -> list[str] | None:
    """The bodies of a code cell's display strings, in order; None when it does not tokenise."""
    tokens = _tokens(source)
    if tokens is None:
        return None
    printed = _printed(source)
    return [_body(t.string) for t in tokens if is_display(t, printed)]


def code_tokens(source: str) -> list[tuple] | None:
    """A code cell's tokens without comments, each display string reduced to what a translation must
    keep of it (its prefix and, for an f-string, its fields): what two editions must share."""
    tokens = _tokens(source)
    if tokens is None:
        return None
    printed = _printed(source)
    kept = []
    for t in tokens:
        if t.type == tokenize.COMMENT:
            continue
        if is_display(t, printed):
            prefix = _PREFIX.match(t.string).group(1).lower()
            fields = _FIELD.findall(_body(t.string)) if "f" in prefix else []
            kept.append(("display", prefix, tuple(fields)))
        else:
            kept.append((t.type, t.string))
    return kept


def _names(source: str) -> set[str]:
    """The words a cell's code itself uses: its names, and the words of its code strings (a mode
    such as "reflect" that a description may name)."""
    tokens = _tokens(source) or []
    printed = _printed(source)
    names = {t.string for t in tokens if t.type == tokenize.NAME}
    for t in tokens:
        if t.type == tokenize.STRING and not is_display(t, printed):
            names.update(re.findall(r"[A-Za-z]+", _body(t.string)))
    return names


def english_in_code(source: str) -> list[str]:
    """English words a code cell's display strings still show (fields, the words its code uses and
    `ALLOWED` aside)."""
    names = _names(source) | ALLOWED
    found = []
    for body in display_strings(source) or []:
        text = _FIELD.sub(" ", body)
        found += [w for w in _ENGLISH_WORD.findall(text) if w not in names and w not in found]
    return found


# Markdown: what is not prose. Code spans and blocks, math, HTML tags, link targets, quoted titles,
# a parenthesised gloss after a Chinese word, and reference lists of authors (Name et al. 2016).
_NOT_PROSE = [re.compile(p, re.S) for p in (
    r"```.*?```", r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$]*\$", r"<[^>]+>", r"\[[^\]]*\]\([^)]*\)", r"https?://\S+",
    r"\*[^*\n]+\*", r"“[^”]*”", r'"[^"\n]*"', r"《[^》]*》", r"「[^」]*」",
    r"[（(][A-Za-z][^（）()]*[）)]",
)]
_RUN = re.compile(r"(?:\b[A-Za-z][A-Za-z'’-]+\b[ ,;:]*){4,}")


def english_in_markdown(text: str) -> list[str]:
    """Runs of four or more English words a translated Markdown cell still shows, outside what is
    not prose (`_NOT_PROSE`; bold marks dropped first, so an *italic title* after **bold** is one)."""
    text = text.replace("**", " ")
    for pattern in _NOT_PROSE:
        text = pattern.sub(" ", text)
    runs = [m.group(0).strip(" ,;:") for m in _RUN.finditer(text)]
    return [r for r in runs if not set(r.replace(",", " ").split()) <= ALLOWED]

"""Answers of the integrity test class: two originals, a copy, a renamed copy, an independent answer,
three who flip the kernel (each their own way), two who share a rare slip, and a pasted course kernel."""
import inspect
import re

from convlab import naive

ORIG_A = '''def corr2d(X, K):
    h, w = K.shape
    out_rows, out_cols = X.shape[0] - h + 1, X.shape[1] - w + 1
    result = torch.zeros(out_rows, out_cols, dtype=X.dtype, device=X.device)
    for r in range(out_rows):
        for c in range(out_cols):
            acc = 0
            for a in range(h):
                acc = acc + (X[r + a, c:c + w] * K[a]).sum()
            result[r, c] = acc
    return result'''
ORIG_B = '''def corr2d(X, K):
    kh, kw = K.shape
    rows = []
    for i in range(X.shape[0] - kh + 1):
        row = [torch.sum(X[i:i + kh, j:j + kw] * K) for j in range(X.shape[1] - kw + 1)]
        rows.append(torch.stack(row))
    return torch.stack(rows).to(X.dtype)'''
RENAMED_B = '''def corr2d(image, kernel):
    # slide the kernel over the image, one row of outputs at a time
    p, q = kernel.shape
    lines = []
    for top in range(image.shape[0] - p + 1):
        line = [torch.sum(image[top:top + p, left:left + q] * kernel)
                for left in range(image.shape[1] - q + 1)]
        lines.append(torch.stack(line))
    return torch.stack(lines).to(image.dtype)'''
INDEPENDENT = '''def corr2d(X, K):
    kh, kw = K.shape
    H, W = X.shape
    Y = X.new_zeros(H - kh + 1, W - kw + 1)
    for a in range(kh):
        for b in range(kw):
            Y += K[a, b] * X[a:a + H - kh + 1, b:b + W - kw + 1]
    return Y'''
FLIPPED = ['''def corr2d(X, K):
    kh, kw = K.shape
    rows, cols = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    patches = torch.stack([X[i:i + rows, j:j + cols] for i in range(kh) for j in range(kw)])
    weights = K.flip(0, 1).reshape(-1, 1, 1)
    return (patches * weights).sum(0)''',
'''def corr2d(X, K):
    kh, kw = K.shape
    H, W = X.shape
    out = torch.zeros(H - kh + 1, W - kw + 1, dtype=X.dtype)
    for a in range(kh):
        for b in range(kw):
            out += K[kh - 1 - a, kw - 1 - b] * X[a:a + H - kh + 1, b:b + W - kw + 1]
    return out''',
'''def corr2d(X, K):
    flipped = torch.flip(K, [0, 1])
    n, m = flipped.shape
    Y = torch.empty(X.shape[0] - n + 1, X.shape[1] - m + 1, dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = torch.sum(X[i:i + n, j:j + m] * flipped)
    return Y''']
RARE = ['''def corr2d(X, K):
    kh, kw = K.shape
    windows = X.unfold(0, kh, 1).unfold(1, kw, 1)
    return windows.sum(dim=(-2, -1)) * K.sum()''',
'''def corr2d(X, K):
    h, w = K.shape
    total = K.sum()
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1, dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = X[i:i + h, j:j + w].sum() * total
    return Y''']
#: The course's own loop (`convlab.naive.corr2d`) pasted with its names changed and a new docstring.
_RENAMES = {"corr2d": "cross_correlate", "X": "image", "K": "kern", "Y": "out", "h": "a", "w": "b", "i": "r", "j": "c",
            "name": "label", "value": "t"}
PASTED = ("from convlab import arguments\n\n\n"
          + re.sub(r"\b\w+\b", lambda word: _RENAMES.get(word.group(0), word.group(0)),
                   re.sub(r'""".*?"""', '"""My cross-correlation."""', inspect.getsource(naive.corr2d), flags=re.S))
          + "\n\ncorr2d = cross_correlate")
SOLUTION_RENAMED = '''def corr2d(image, kern):
    """Slides kern over image."""
    a, b = kern.shape
    patches = image.unfold(0, a, 1).unfold(1, b, 1)
    return (patches * kern).sum(dim=(-2, -1))'''

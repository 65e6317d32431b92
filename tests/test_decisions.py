"""Code comments say why in a line and name a heading of docs/decisions.md, where the
measured figures live: every heading they name is there, and no comment or docstring of the
example's code carries measured results or points into the README."""
import ast
import io
import os
import re
import tokenize

from conftest import REPO

DECISIONS = os.path.join(REPO, 'docs', 'decisions.md')
CODE_FOLDERS = ('.', 'common', 'training', 'reader', 'tools')
ANCHOR = re.compile(r'docs/decisions\.md#([a-z0-9-]+)')
# a decimal percentage, a figure against another, a speed-up: measurements, not reasons
MEASURED = re.compile(r'\d\.\d+ ?%|\d ?% instead of|times (faster|slower)|README')


def code_files():
    for folder in CODE_FOLDERS:
        path = os.path.join(REPO, folder)
        yield from sorted(os.path.join(path, name) for name in os.listdir(path)
                          if name.endswith('.py'))


def comments_and_docstrings(path):
    """(line number, text) of every comment and docstring of a Python file."""
    with open(path) as f:
        source = f.read()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                yield node.body[0].lineno, docstring


def heading_anchors():
    """GitHub's anchors of the headings of docs/decisions.md."""
    with open(DECISIONS) as f:
        headings = [line.lstrip('#').strip() for line in f if line.startswith('#')]
    return {re.sub(r'[^a-z0-9 -]', '', h.lower()).replace(' ', '-') for h in headings}


def test_every_decision_a_comment_names_is_a_heading():
    anchors, named = heading_anchors(), {}
    for path in code_files():
        for line, text in comments_and_docstrings(path):
            for anchor in ANCHOR.findall(text):
                named.setdefault(anchor, f"{os.path.relpath(path, REPO)}:{line}")
    assert len(named) >= 10, named  # the constants of hyperparameters.py, lstm.py, readers
    missing = {anchor: where for anchor, where in named.items() if anchor not in anchors}
    assert not missing, f"no heading in docs/decisions.md for {missing}"


def test_no_comment_carries_measured_figures_or_readme_pointers():
    found = [f"{os.path.relpath(path, REPO)}:{line}: {MEASURED.search(text).group()}"
             for path in code_files() for line, text in comments_and_docstrings(path)
             if MEASURED.search(text)]
    assert not found, "measured figures belong in docs/decisions.md:\n" + '\n'.join(found)

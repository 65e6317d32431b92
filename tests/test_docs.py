"""The README and docs/ as a reader meets them: every relative link and anchor resolves (as
GitHub renders them), the README stays short enough to read in ten minutes, sets up within
its first screen, and holds no history (dates, commit hashes); and the files
docs/deployment.md says to copy for reading without MXNet are enough to read."""
import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, 'README.md')
DOCUMENTS = [README] + sorted(glob.glob(os.path.join(REPO, 'docs', '*.md')))
DEPLOYMENT = os.path.join(REPO, 'docs', 'deployment.md')
README_MAX_WORDS = 2500
SETUP_WITHIN_LINES = 60

FENCE = re.compile(r'^\s*(```|~~~)')
INLINE_CODE = re.compile(r'`[^`]*`')
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')


def prose_lines(path):
    """The file's lines outside fenced code blocks, as (line number, text)."""
    in_fence = False
    with open(path, encoding='utf-8') as lines:
        for number, line in enumerate(lines, 1):
            if FENCE.match(line):
                in_fence = not in_fence
            elif not in_fence:
                yield number, line


def anchor_of(heading_text):
    """GitHub's anchor for a heading's text: markup dropped, lowercase, punctuation
    stripped (letters, digits, '_', '-' and spaces stay), each space a '-'."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading_text)  # a link reads as its text
    text = re.sub(r'[^\w\- ]', '', text.lower())
    return text.replace(' ', '-')


def anchors(path):
    """Every anchor the file's headings make, a repeated one numbered -1, -2, ..."""
    seen = {}
    found = set()
    for _, line in prose_lines(path):
        match = HEADING.match(line)
        if match:
            anchor = anchor_of(match.group(2))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            found.add(anchor if count == 0 else f'{anchor}-{count}')
    return found


def relative_links(path):
    """(line number, target) of every link and image in the file's prose that is not a URL."""
    for number, line in prose_lines(path):
        for target in LINK.findall(INLINE_CODE.sub('', line)):
            if not re.match(r'[a-z][a-z0-9+.-]*:', target, re.IGNORECASE):
                yield number, target


def broken(path, target):
    """Why a link from `path` to `target` does not resolve, or None."""
    file_part, _, anchor = target.partition('#')
    linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
    if not os.path.exists(linked):
        return f"{os.path.relpath(linked, REPO)} does not exist"
    if anchor and linked.endswith('.md') and anchor not in anchors(linked):
        return f"{os.path.relpath(linked, REPO)} has no heading with anchor #{anchor}"
    return None


def test_anchors_follow_githubs_rules():
    assert anchor_of('Set-up: two commands') == 'set-up-two-commands'
    assert anchor_of('The input conversion: `ink_crop`') == 'the-input-conversion-ink_crop'
    assert anchor_of('Read without MXNet (ONNX)') == 'read-without-mxnet-onnx'
    assert anchor_of('3. Read') == '3-read'


def test_a_repeated_heading_gets_numbered_anchors(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('# Notes\n## Notes\n```\n## Not a heading\n```\n## Notes\n')
    assert anchors(str(page)) == {'notes', 'notes-1', 'notes-2'}


def test_a_broken_link_or_anchor_is_caught(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('## Here\n[ok](#here) [gone](#there) [file](missing.md) `[code](x.md)`\n')
    problems = [broken(str(page), target) for _, target in relative_links(str(page))]
    assert problems[0] is None
    assert 'no heading with anchor #there' in problems[1]
    assert 'missing.md does not exist' in problems[2]
    assert len(problems) == 3


@pytest.mark.parametrize('path', DOCUMENTS, ids=lambda path: os.path.relpath(path, REPO))
def test_every_relative_link_and_anchor_resolves(path):
    links = list(relative_links(path))
    problems = [f"line {number}: ({target}) {why}" for number, target in links
                if (why := broken(path, target))]
    assert not problems, '\n'.join(problems)


def test_the_readme_links_into_every_document_of_docs():
    linked = {os.path.normpath(os.path.join(REPO, target.partition('#')[0]))
              for _, target in relative_links(README)}
    unlinked = [os.path.relpath(path, REPO) for path in DOCUMENTS[1:] if path not in linked]
    assert not unlinked


def test_the_readme_reads_in_ten_minutes():
    with open(README, encoding='utf-8') as readme:
        words = len(readme.read().split())  # as `wc -w` counts them
    assert words <= README_MAX_WORDS


def test_the_readme_sets_up_within_its_first_screen():
    with open(README, encoding='utf-8') as readme:
        first_screen = readme.readlines()[:SETUP_WITHIN_LINES]
    assert any(line.startswith('## Set-up') for line in first_screen)
    for command in ('./run.sh train', './run.sh test'):
        assert any(line.startswith(command) for line in first_screen), command


def test_the_readme_holds_no_history():
    with open(README, encoding='utf-8') as readme:
        text = readme.read()
    assert not re.findall(r'\b20\d\d-\d\d-\d\d\b', text)
    hashes = [word for word in re.findall(r'\b[0-9a-f]{7,40}\b', text)
              if re.search(r'\d', word) and re.search(r'[a-f]', word)]
    assert not hashes


def files_to_copy_for_onnx_reading():
    """The Python files docs/deployment.md lists in its one fenced block of nothing else."""
    blocks, block, in_fence = [], [], False
    with open(DEPLOYMENT, encoding='utf-8') as lines:
        for line in lines:
            if FENCE.match(line):
                if in_fence:
                    blocks.append(block)
                block, in_fence = [], not in_fence
            elif in_fence:
                block.extend(line.split())
    listings = [words for words in blocks if words and all(w.endswith('.py') for w in words)]
    assert len(listings) == 1, listings
    return listings[0]


def test_the_files_deployment_lists_read_with_onnx_alone(tmp_path):
    for name in files_to_copy_for_onnx_reading() + [os.path.join('model', 'ocr.onnx')]:
        os.makedirs(tmp_path / os.path.dirname(name), exist_ok=True)
        shutil.copy(os.path.join(REPO, name), tmp_path / name)
    result = subprocess.run(
        [sys.executable, 'lstm_ocr_infer.py', '--onnx', os.path.join('model', 'ocr.onnx'),
         os.path.join(REPO, 'docs', 'sample.png')],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r'Digits: \[\d(, \d)*\]\n', result.stdout), result.stdout

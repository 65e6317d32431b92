"""Shared fixtures: the repository on sys.path, a real font, and a way to run the CLIs."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from get_fonts import TRAINING_FONTS  # noqa: E402


@pytest.fixture(scope='session')
def font():
    """DroidSansMono, shipped by the captcha package."""
    return TRAINING_FONTS[0]


def run_script(script, *args, timeout=300, cwd=None):
    """Run one of the example's scripts with this interpreter; return the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(REPO, script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          stdin=subprocess.DEVNULL)


def assert_one_line_error(result):
    """A clean failure: exit code != 0 and one `error: ...` line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1 and lines[0].startswith('error: '), result.stderr
    return lines[0]

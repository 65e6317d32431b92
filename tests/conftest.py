"""Shared fixtures: the repository on sys.path, a real font, and a way to run the CLIs."""
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from fonts import TRAINING_FONTS  # noqa: E402


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


def assert_error_ends_the_log(result):
    """A clean failure of a script that logs as it works (training): exit code != 0, no
    traceback, and its last line, the only error line, says what is wrong."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert 'Traceback' not in result.stderr, result.stderr
    assert lines[-1].startswith('error: '), result.stderr
    assert sum(line.startswith('error: ') for line in lines) == 1, result.stderr
    return lines[-1]

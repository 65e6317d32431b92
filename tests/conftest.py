"""Shared fixtures: the repository on sys.path, a real font, a way to run the CLIs, the
settings of a tiny model that trains in seconds, and a checkpoint made the original way."""
import ctypes
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from common.fonts import TRAINING_FONTS, UNSEEN_FONTS, copy_fonts  # noqa: E402
from tools import original_example  # noqa: E402

TINY = ['--num_hidden', 16, '--num_lstm_layer', 1, '--conv_channels', 8, '--batch_size', 16,
        '--train_epoch_size', 128, '--eval_epoch_size', 64, '--num_proc', 1, '--seed', 3]


@pytest.fixture(scope='session')
def font():
    """DroidSansMono, shipped by the captcha package."""
    return TRAINING_FONTS[0]


@pytest.fixture(scope='session')
def unseen_fonts(tmp_path_factory):
    """A folder of the held-out fonts, as `tools/get_fonts.py --unseen unseen/` makes it."""
    folder = str(tmp_path_factory.mktemp('fonts') / 'unseen')
    copy_fonts(UNSEEN_FONTS, folder)
    return folder


@pytest.fixture(scope='module')
def old_checkpoint(tmp_path_factory):
    """A checkpoint made the old way: the original example's graph and parameter names,
    saved by mx.model.save_checkpoint, with no settings file."""
    prefix = str(tmp_path_factory.mktemp('old') / 'ocr')
    symbol = original_example.training_symbol(num_hidden=24)
    shapes = dict(data=(1, 80, 30), label=(1, 4), **{f"l{i}_init_{k}": (1, 24)
                                                     for i in range(2) for k in 'ch'})
    arg_shapes, _, _ = symbol.infer_shape(**shapes)
    rng = np.random.RandomState(0)
    params = {name: mx.nd.array(rng.uniform(-0.3, 0.3, shape))
              for name, shape in zip(symbol.list_arguments(), arg_shapes) if name not in shapes}
    mx.model.save_checkpoint(prefix, 100, symbol, params, {})
    return prefix, params


def run_script(script, *args, timeout=300, cwd=None, preexec_fn=None):
    """Run one of the example's scripts with this interpreter (`preexec_fn` run in the child
    first, to set limits); return the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(REPO, script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)


def draw_captchas(folder, font, count, seed):
    """Draw `count` labelled captchas with `font` into `folder` as captcha_generator.py
    does; -> their paths, sorted."""
    result = run_script('captcha_generator.py', font, '--count', count, '--out', folder,
                        '--seed', seed)
    assert result.returncode == 0, result.stderr
    return sorted(folder.iterdir())


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


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # linux/prctl.h, capability.h


def file_permissions_apply():
    """preexec_fn: a process that file permissions apply to. Root's file-permission
    overrides are dropped from its bounding set (and so from the program it runs): setuid
    to another user would not do here, as this interpreter lives under root's own folder."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

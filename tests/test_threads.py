"""Which scripts let MXNet use every core: those with the machine to themselves (inference,
training from a labelled dataset), not training beside its captcha workers."""
import os
import subprocess
import sys

import pytest

from conftest import REPO, run_script

pytestmark = pytest.mark.slow

EVERY_CORE = str(len(os.sched_getaffinity(0)))


def omp_threads_when_mxnet_started(script, *argv, **env):
    """OMP_NUM_THREADS as `script` had it when it imported mxnet (MXNet reads it then), run
    with `argv` in a fresh interpreter whose environment has none unless `env` gives one."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ('OMP_NUM_THREADS', 'DMLC_ROLE')}
    code = ("import builtins, os, runpy, sys\n"
            "real_import = builtins.__import__\n"
            "def probe(name, *args, **kwargs):\n"
            "    if name == 'mxnet' and 'mxnet' not in sys.modules:\n"
            "        print('threads', os.environ.get('OMP_NUM_THREADS'), file=sys.stderr)\n"
            "    return real_import(name, *args, **kwargs)\n"
            "builtins.__import__ = probe\n"
            f"sys.argv = [{script!r}] + sys.argv[1:]\n"
            f"sys.path.insert(0, {REPO!r})\n"
            f"runpy.run_path({os.path.join(REPO, script)!r}, run_name='__main__')\n")
    result = subprocess.run([sys.executable, '-c', code, *map(str, argv)], cwd=REPO, text=True,
                            capture_output=True, env={**environment, **env}, timeout=120,
                            stdin=subprocess.DEVNULL)
    probes = [line.split()[1] for line in result.stderr.splitlines() if line.startswith('threads')]
    assert probes, result.stderr
    return probes[0]


def test_inference_uses_every_core_unless_told_otherwise(tmp_path, font):
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    assert omp_threads_when_mxnet_started('lstm_ocr_infer.py', sample) == EVERY_CORE
    assert omp_threads_when_mxnet_started('lstm_ocr_infer.py', sample,
                                          OMP_NUM_THREADS='1') == '1'


def test_training_leaves_the_captcha_workers_a_core_but_not_from_a_dataset(tmp_path, font):
    short = ['--num_epoch', 1, '--batch_size', 2, '--train_epoch_size', 2,
             '--eval_epoch_size', 2, '--prefix', tmp_path / 'ocr']
    assert omp_threads_when_mxnet_started('lstm_ocr_train.py', *short, font) == 'None'
    run_script('captcha_generator.py', font, '--count', 4, '--rec', tmp_path / 'a.rec')
    assert omp_threads_when_mxnet_started('lstm_ocr_train.py', *short, '--train_data',
                                          tmp_path / 'a.rec') == EVERY_CORE
    assert omp_threads_when_mxnet_started('lstm_ocr_train.py', *short, '--train_rec',
                                          tmp_path / 'a.rec', DMLC_ROLE='worker') == 'None'

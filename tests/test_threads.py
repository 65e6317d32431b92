"""Which scripts let MXNet use every core: readers and training from a labelled dataset,
not training beside its captcha workers; and that those threads sleep while they wait."""
import os
import subprocess
import sys

import pytest

from conftest import REPO, run_script

pytestmark = pytest.mark.slow

EVERY_CORE = str(len(os.sched_getaffinity(0)))


def omp_setting_when_mxnet_started(script, *argv, variable='OMP_NUM_THREADS', **env):
    """`variable` (OMP_NUM_THREADS unless told) as `script` had it when it imported mxnet
    (MXNet and its OpenMP read it then), run with `argv` in a fresh interpreter whose
    environment has no OpenMP settings unless `env` gives them."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'DMLC_ROLE')}
    code = ("import builtins, os, runpy, sys\n"
            "real_import = builtins.__import__\n"
            "def probe(name, *args, **kwargs):\n"
            "    if name == 'mxnet' and 'mxnet' not in sys.modules:\n"
            f"        print('setting', os.environ.get({variable!r}), file=sys.stderr)\n"
            "    return real_import(name, *args, **kwargs)\n"
            "builtins.__import__ = probe\n"
            f"sys.argv = [{script!r}] + sys.argv[1:]\n"
            f"sys.path.insert(0, {REPO!r})\n"
            f"runpy.run_path({os.path.join(REPO, script)!r}, run_name='__main__')\n")
    result = subprocess.run([sys.executable, '-c', code, *map(str, argv)], cwd=REPO, text=True,
                            capture_output=True, env={**environment, **env}, timeout=120,
                            stdin=subprocess.DEVNULL)
    probes = [line.split()[1] for line in result.stderr.splitlines() if line.startswith('setting')]
    assert probes, result.stderr
    return probes[0]


def test_inference_uses_every_core_unless_told_otherwise(tmp_path, font):
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    assert omp_setting_when_mxnet_started('lstm_ocr_infer.py', sample) == EVERY_CORE
    assert omp_setting_when_mxnet_started('lstm_ocr_infer.py', sample,
                                          OMP_NUM_THREADS='1') == '1'


def test_threads_that_use_every_core_sleep_while_they_wait(tmp_path, font):
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    assert omp_setting_when_mxnet_started('lstm_ocr_infer.py', sample,
                                          variable='OMP_WAIT_POLICY') == 'PASSIVE'
    assert omp_setting_when_mxnet_started('lstm_ocr_infer.py', sample, variable='OMP_WAIT_POLICY',
                                          OMP_WAIT_POLICY='ACTIVE') == 'ACTIVE'


def test_training_leaves_the_captcha_workers_a_core_but_not_from_a_dataset(tmp_path, font):
    short = ['--num_epoch', 1, '--batch_size', 2, '--train_epoch_size', 2,
             '--eval_epoch_size', 2, '--prefix', tmp_path / 'ocr']
    assert omp_setting_when_mxnet_started('lstm_ocr_train.py', *short, font) == 'None'
    run_script('captcha_generator.py', font, '--count', 4, '--rec', tmp_path / 'a.rec')
    assert omp_setting_when_mxnet_started('lstm_ocr_train.py', *short, '--train_data',
                                          tmp_path / 'a.rec') == EVERY_CORE
    assert omp_setting_when_mxnet_started('lstm_ocr_train.py', *short, '--train_rec',
                                          tmp_path / 'a.rec', DMLC_ROLE='worker') == 'None'

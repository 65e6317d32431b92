"""Data-parallel training on MXNet's own machinery: a local parameter-server job through
launch_local.py (scheduler, server and two workers on loopback, kvstore dist_sync), and two
CPU contexts in one process."""
import os
import re
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest

from conftest import REPO, run_script
from test_faults import alive, children

pytestmark = pytest.mark.slow

TINY = ['--num_hidden', 16, '--num_lstm_layer', 1, '--conv_channels', 8, '--batch_size', 16,
        '--train_epoch_size', 64, '--eval_epoch_size', 32, '--num_proc', 1, '--seed', 3]


def launch(tmp_path, font, *train_args, timeout=240):
    """launch_local.py -n 2 -s 1 around lstm_ocr_train.py; -> (CompletedProcess, every pid
    the launcher started, seen while it ran)."""
    launch_script = os.path.join(REPO, 'tools', 'launch_local.py')
    command = [sys.executable, launch_script, '-n', '2', '-s', '1',
               '--', sys.executable, os.path.join(REPO, 'lstm_ocr_train.py'), *map(str, TINY),
               '--kv_store', 'dist_sync', '--prefix', str(tmp_path / 'dist'),
               *map(str, train_args), font]
    logs = tmp_path / 'launcher.log'
    with open(logs, 'w') as log:  # a file, not a pipe: nothing blocks if a process lingers
        launcher = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    text=True)
        seen = set()
        deadline = time.time() + timeout
        while launcher.poll() is None and time.time() < deadline:
            for pid in children(launcher.pid):
                seen.add(pid)
                seen.update(children(pid) if alive(pid) else [])
            time.sleep(0.2)
        if launcher.poll() is None:  # hung: the launcher's SIGTERM handling stops the job
            launcher.terminate()
            launcher.wait(30)
    stdout = stderr = logs.read_text()
    return subprocess.CompletedProcess(command, launcher.returncode, stdout, stderr), seen


def test_two_workers_train_in_sync_and_rank_0_checkpoints(tmp_path, font):
    result, pids = launch(tmp_path, font, '--num_epoch', 2)
    assert result.returncode == 0, result.stderr[-3000:]
    digests = re.findall(r'Worker (\d) of 2: parameters sha1 (\w+)', result.stderr)
    assert sorted(rank for rank, _ in digests) == ['0', '1'], result.stderr[-3000:]
    assert digests[0][1] == digests[1][1]  # both workers hold the same model
    assert len(pids) >= 4  # scheduler, server, two workers
    assert not [pid for pid in pids if alive(pid)], "processes left behind"
    # only rank 0 writes; the optimizer states live on the server
    assert sorted(os.listdir(tmp_path)) == ['dist-0001.params', 'dist-0002.params',
                                            'dist-config.json', 'dist-log.csv',
                                            'dist-symbol.json', 'launcher.log']
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    inferred = run_script('lstm_ocr_infer.py', '--prefix', tmp_path / 'dist', '--epoch', 2,
                          sample)
    assert inferred.returncode == 0, inferred.stderr
    assert inferred.stdout.startswith('Digits: [')


def test_a_failing_worker_stops_the_whole_job(tmp_path, font):
    result, pids = launch(tmp_path, font, '--num_epoch', 1, '--load_epoch', 5)  # no such file
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith('error: a worker exited')
    assert not [pid for pid in pids if alive(pid)], "processes left behind"


def test_two_cpu_contexts_match_one_with_the_same_total_batch(tmp_path, font):
    params = {}
    for cpus in (1, 2):
        prefix = tmp_path / f'cpu{cpus}'
        result = run_script('lstm_ocr_train.py', *TINY, '--cpu', cpus, '--num_epoch', 1,
                            '--prefix', prefix, font)
        assert result.returncode == 0, result.stderr
        params[cpus] = mx.model.load_checkpoint(str(prefix), 1)[1]
    for name, value in params[1].items():  # same batches, same start: the same 4 updates
        np.testing.assert_allclose(params[2][name].asnumpy(), value.asnumpy(),
                                   rtol=1e-3, atol=1e-4, err_msg=name)

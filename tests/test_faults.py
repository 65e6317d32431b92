"""Faults during training: a killed worker, Ctrl-C / SIGTERM, and a trainer killed while it
saves. Each is a real lstm_ocr_train.py process with real worker processes."""
import glob
import os
import random
import signal
import subprocess
import sys
import time

import mxnet as mx
import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

# one batch per epoch, so checkpoints are written every second or so
QUICK_EPOCHS = ['--num_hidden', 16, '--num_lstm_layer', 1, '--conv_channels', 8,
                '--batch_size', 16, '--train_epoch_size', 16, '--eval_epoch_size', 16,
                '--num_proc', 2, '--num_epoch', 10000]
HANG = 60  # seconds: far beyond the few the trainer needs; reaching it means a hang


def ignore_sigint():
    """As a background job of a non-interactive shell starts: with SIGINT ignored, which
    Python then leaves ignored unless the program sets a handler itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_training(prefix, font, *extra, sigint_ignored=False):
    command = [sys.executable, os.path.join(REPO, 'lstm_ocr_train.py'), *map(str, QUICK_EPOCHS),
               '--prefix', str(prefix), *map(str, extra), font]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignore_sigint if sigint_ignored else None)


def wait_for_checkpoint(prefix, trainer, epoch=1):
    path = f"{prefix}-{epoch:04d}.params"
    deadline = time.time() + HANG
    while not os.path.exists(path):
        assert trainer.poll() is None, trainer.communicate()[1]
        assert time.time() < deadline, f"no {path} after {HANG} s"
        time.sleep(0.1)


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(child) for child in f.read().split()]


def workers(trainer):
    """The trainer's captcha workers (spawned Python processes, not the resource tracker)."""
    found = []
    for pid in children(trainer.pid):
        try:
            with open(f"/proc/{pid}/cmdline") as f:
                if 'multiprocessing.spawn' in f.read():
                    found.append(pid)
        except FileNotFoundError:
            pass
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(') ')[1][0] != 'Z'  # a zombie has exited
    except FileNotFoundError:
        return False


def assert_all_gone(pids):
    deadline = time.time() + 10
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)], "worker processes left behind"


def finish(trainer):
    """Wait for the trainer to exit -> (exit code, its stderr)."""
    try:
        _, stderr = trainer.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no exit after {HANG} s: {post_mortem(trainer)}")
    return trainer.returncode, stderr


def post_mortem(trainer):
    """What a hung trainer was doing: its threads' stacks (SIGUSR1, faulthandler) and which
    of its processes are still alive."""
    if trainer.poll() is not None:
        return f"the trainer exited ({trainer.returncode}) but a process keeps its pipes open"
    left = [pid for pid in children(trainer.pid) if alive(pid)]
    trainer.send_signal(signal.SIGUSR1)
    time.sleep(2)
    trainer.kill()
    _, stderr = trainer.communicate()
    return f"trainer alive with children {left}; its stderr ends:\n{stderr[-4000:]}"


def test_killed_worker_stops_training_with_one_line(tmp_path, font):
    trainer = start_training(tmp_path / 'ocr', font)
    try:
        wait_for_checkpoint(tmp_path / 'ocr', trainer)
        pids = workers(trainer)
        assert len(pids) == 2
        os.kill(pids[0], signal.SIGKILL)
        code, stderr = finish(trainer)
    finally:
        trainer.kill()
    assert code != 0
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith('error: captcha-worker-') and 'killed by SIGKILL' in last_line
    assert_all_gone(pids)


@pytest.mark.parametrize('sent,sigint_ignored', [
    (signal.SIGINT, False), (signal.SIGTERM, False),
    (signal.SIGINT, True),  # started as a background job is: Ctrl-C must still stop it
], ids=['SIGINT', 'SIGTERM', 'SIGINT-from-a-background-job'])
def test_signal_stops_workers_and_keeps_checkpoints(sent, sigint_ignored, tmp_path, font):
    prefix = tmp_path / 'ocr'
    trainer = start_training(prefix, font, sigint_ignored=sigint_ignored)
    try:
        wait_for_checkpoint(prefix, trainer, epoch=2)
        pids = workers(trainer)
        trainer.send_signal(sent)
        code, stderr = finish(trainer)
    finally:
        trainer.kill()
    assert code == 130
    assert stderr.strip().splitlines()[-1].startswith(
        f"error: training interrupted ({sent.name})")
    assert_all_gone(pids)
    last_epoch = max(int(p[-11:-7]) for p in glob.glob(f"{prefix}-*.params"))
    _, arg_params, _ = mx.model.load_checkpoint(str(prefix), last_epoch)
    assert 'pred_fc_weight' in arg_params


def test_sigusr1_prints_the_stacks_and_training_goes_on(tmp_path, font):
    prefix = tmp_path / 'ocr'
    trainer = start_training(prefix, font)
    try:
        wait_for_checkpoint(prefix, trainer, epoch=1)
        trainer.send_signal(signal.SIGUSR1)
        wait_for_checkpoint(prefix, trainer, epoch=3)  # still training
        trainer.send_signal(signal.SIGTERM)
        code, stderr = finish(trainer)
    finally:
        trainer.kill()
    assert code == 130
    assert 'lstm_ocr_train.py", line' in stderr


def test_trainer_killed_while_saving_leaves_only_whole_checkpoints(tmp_path, font):
    prefix = tmp_path / 'ocr'
    rng = random.Random(0)
    resume, next_epoch = [], 1
    for _ in range(3):
        trainer = start_training(prefix, font, *resume)
        pids = []
        try:
            wait_for_checkpoint(prefix, trainer, epoch=next_epoch)
            pids = workers(trainer)
            time.sleep(rng.uniform(0, 1.5))  # somewhere in the cycle of training and saving
            trainer.kill()
            trainer.wait()
        finally:
            trainer.kill()
        assert_all_gone(pids)  # workers notice their trainer died
        epochs = sorted(int(p[-11:-7]) for p in glob.glob(f"{prefix}-*.params"))
        for epoch in epochs:  # every .params file present is whole
            mx.model.load_checkpoint(str(prefix), epoch)
        resume, next_epoch = ['--load_epoch', epochs[-1]], epochs[-1] + 1
    trainer = start_training(prefix, font, *resume)  # resumes from the last whole one
    try:
        wait_for_checkpoint(prefix, trainer, epoch=next_epoch)
    finally:
        trainer.kill()
        trainer.wait()

import os
import signal
import time

import mxnet as mx
import numpy as np
import pytest

from captcha_generator import MPDigitCaptcha
from multiproc_data import MPData, WorkerError


class Counter:
    """fn for MPData: returns (worker_id, n) and counts calls in a shared value."""

    def __init__(self, calls):
        self.calls, self.n = calls, 0

    def __call__(self, worker_id):
        with self.calls.get_lock():
            self.calls.value += 1
        self.n += 1
        return worker_id, self.n


class Failing:
    def __call__(self, worker_id):
        raise OSError("font file vanished")


def shared_counter(mp_data):
    return mp_data.context.Value('i', 0)


def test_results_come_from_each_worker_in_turn():
    mp_data = MPData(2, 4, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    mp_data.start()
    try:
        assert [mp_data.get() for _ in range(6)] == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]
    finally:
        mp_data.reset()


def test_queue_stays_bounded_when_nobody_reads():
    mp_data = MPData(2, 4, None)
    calls = shared_counter(mp_data)
    mp_data.fn = Counter(calls)
    mp_data.start()
    try:
        time.sleep(3)
        # 2 queued per worker, plus one made and waiting to be queued
        assert calls.value <= 4 + 2
    finally:
        mp_data.reset()


def test_reset_stops_and_joins_every_worker():
    mp_data = MPData(2, 2, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    mp_data.start()
    processes = list(mp_data.processes)
    mp_data.get()
    mp_data.reset()
    assert not any(p.is_alive() for p in processes)
    mp_data.start()  # can start again
    try:
        assert mp_data.get()[0] == 0
    finally:
        mp_data.reset()


def test_worker_exception_is_raised_in_the_consumer():
    mp_data = MPData(1, 2, Failing())
    mp_data.start()
    try:
        with pytest.raises(WorkerError, match='OSError: font file vanished'):
            mp_data.get()
    finally:
        mp_data.reset()


def test_killed_worker_is_noticed():
    mp_data = MPData(2, 2, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    mp_data.start()
    try:
        mp_data.get()
        os.kill(mp_data.processes[1].pid, signal.SIGKILL)
        mp_data.processes[1].join(5)
        with pytest.raises(WorkerError, match='captcha-worker-1 died .killed by SIGKILL'):
            for _ in range(10):
                mp_data.get()
    finally:
        mp_data.reset()


def test_workers_start_safely_after_mxnet_engine_runs(font):
    assert mx.nd.ones((2, 2)).sum().asscalar() == 4  # engine threads are running now
    captcha = MPDigitCaptcha([font], num_processes=2, batch_size=8, seed=1)
    captcha.start()
    try:
        images, labels = captcha.get_batch(8)
        assert images.shape == (8, 80, 30) and labels.shape == (8, 4)
        with pytest.raises(ValueError, match='batches of 8'):
            captcha.get_batch(4)
    finally:
        captcha.reset()


def test_seeded_workers_draw_the_same_batches(font):
    batches = []
    for _ in range(2):
        captcha = MPDigitCaptcha([font], num_processes=2, batch_size=4, seed=11)
        captcha.start()
        try:
            batches.append([captcha.get()[0] for _ in range(3)])
        finally:
            captcha.reset()
    for a, b in zip(*batches):
        np.testing.assert_array_equal(a, b)

import contextlib
import os
import signal
import time

import mxnet as mx
import numpy as np
import pytest

from captcha_generator import MPCaptcha
from multiproc_data import MPData, WorkerError

pytestmark = pytest.mark.slow


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


@contextlib.contextmanager
def running(source):
    """`source` (MPData or MPCaptcha) started, and reset however the block ends."""
    source.start()
    try:
        yield source
    finally:
        source.reset()


def test_results_come_from_each_worker_in_turn():
    mp_data = MPData(2, 4, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    with running(mp_data):
        assert [mp_data.get() for _ in range(6)] == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]


@contextlib.contextmanager
def counting_workers(num_processes, max_queue_size, fn_class, **options):
    """Started MPData whose fn_class(calls) counts its calls in `calls` -> (mp_data, calls)."""
    mp_data = MPData(num_processes, max_queue_size, None, **options)
    calls = shared_counter(mp_data)
    mp_data.fn = fn_class(calls)
    with running(mp_data):
        yield mp_data, calls


def wait_for_calls(calls, at_least, seconds=30):
    """Block until the workers made `at_least` calls: they run, and have filled what they
    may."""
    deadline = time.time() + seconds
    while calls.value < at_least:
        assert time.time() < deadline, f"only {calls.value} calls after {seconds} s"
        time.sleep(0.05)


def test_queue_stays_bounded_when_nobody_reads():
    with counting_workers(2, 4, Counter) as (mp_data, calls):
        wait_for_calls(calls, 4)  # both queues full
        time.sleep(1)  # time enough to overrun the bound, if they could
        # 2 queued per worker, plus one made and waiting to be queued
        assert 4 <= calls.value <= 4 + 2


def test_reset_stops_and_joins_every_worker():
    mp_data = MPData(2, 2, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    mp_data.start()
    processes = list(mp_data.processes)
    mp_data.get()
    mp_data.reset()
    assert not any(p.is_alive() for p in processes)
    with running(mp_data):  # can start again
        assert mp_data.get()[0] == 0


def test_worker_exception_is_raised_in_the_consumer():
    mp_data = MPData(1, 2, Failing())
    with running(mp_data):
        with pytest.raises(WorkerError, match='OSError: font file vanished'):
            mp_data.get()


def test_killed_worker_is_noticed():
    mp_data = MPData(2, 2, None)
    mp_data.fn = Counter(shared_counter(mp_data))
    with running(mp_data):
        mp_data.get()
        os.kill(mp_data.processes[1].pid, signal.SIGKILL)
        mp_data.processes[1].join(5)
        with pytest.raises(WorkerError, match='captcha-worker-1 died .killed by SIGKILL'):
            for _ in range(10):
                mp_data.get()


def test_workers_start_safely_after_mxnet_engine_runs(font):
    assert mx.nd.ones((2, 2)).sum().asscalar() == 4  # engine threads are running now
    captcha = MPCaptcha([font], num_processes=2, batch_size=8, seed=1)
    with running(captcha):
        views, labels = captcha.get_batch(8)
        assert views.shape == (8, 30, 80) and labels.shape == (8, 4)
        with pytest.raises(ValueError, match='batches of 8'):
            captcha.get_batch(4)


def test_seeded_workers_draw_the_same_batches(font):
    batches = []
    for _ in range(2):
        captcha = MPCaptcha([font], num_processes=2, batch_size=4, seed=11)
        with running(captcha):
            batches.append([captcha.get_batch(4)[0] for _ in range(3)])
    for a, b in zip(*batches):
        np.testing.assert_array_equal(a, b)


class NumberedBatch(Counter):
    """fn for MPData in shared-memory mode: arrays filled with the call number."""

    def __call__(self, worker_id):
        worker_id, n = super().__call__(worker_id)
        return np.full((3, 2), n, np.float32), np.full(4, worker_id, np.int64)


def test_shared_memory_results_are_copies_and_stay_bounded():
    arrays = [((3, 2), np.float32), ((4,), np.int64)]
    with counting_workers(1, 2, NumberedBatch, arrays=arrays) as (mp_data, calls):
        wait_for_calls(calls, 3)  # every slot filled
        time.sleep(1)
        # 3 slots (2 queued + 1 being filled), all full, plus one drawn and waiting for a slot
        assert 3 <= calls.value <= 3 + 1
        first = mp_data.get()
        later = [mp_data.get() for _ in range(6)]  # every slot is reused meanwhile
        np.testing.assert_array_equal(first[0], np.full((3, 2), 1))
        assert [int(batch[0][0, 0]) for batch in later] == [2, 3, 4, 5, 6, 7]
        assert first[1].dtype == np.int64 and list(first[1]) == [0, 0, 0, 0]


class Slow:
    def __call__(self, worker_id):
        time.sleep(60)


def test_a_wait_for_data_calls_on_wait_which_may_stop_it():
    calls = []

    def on_wait():
        calls.append(time.time())
        if len(calls) == 2:
            raise RuntimeError("stop waiting")
    mp_data = MPData(1, 1, Slow(), on_wait=on_wait)
    with running(mp_data):
        with pytest.raises(RuntimeError, match='stop waiting'):
            mp_data.get()
    assert len(calls) == 2

"""Worker processes that call a function over and over and feed its results to a bounded queue.

Captcha drawing is pure Python and CPU bound, so training runs it in separate processes.
Workers are started with the 'spawn' method: forking a process after MXNet has started its
engine threads can hang the child, and spawn is safe whether or not mxnet was imported.

Each worker has its own queue and `get` reads them in turn, so the order of results does
not depend on which worker happens to be faster: a seeded run sees the same batches.

Results that are tuples of numpy arrays of known shapes (`arrays=[(shape, dtype), ...]`, as
captcha batches are) travel through shared memory: each worker owns a few slots allocated by
the trainer, fills a free one and sends only its number; the trainer copies the arrays out
and hands the slot back. Nothing is pickled per batch, and the slots bound the memory.

A worker that raises sends the error back instead of its result, and `get` raises it in the
trainer; a worker that dies (killed, out of memory) is noticed by `get` too. Workers ignore
Ctrl-C (the trainer decides when to stop them) and exit by themselves if the trainer dies.
While `get` waits it calls `on_wait` every half second, so a trainer waiting for data can
still act on an interrupt (interrupts.py).
"""
import multiprocessing
import os
import queue
import signal
import sys
import traceback

import numpy as np


class WorkerError(RuntimeError):
    """A worker process failed or died; the message names it and the cause."""


class SharedSlots:
    """`count` buffers in shared memory, each holding one tuple of arrays of fixed shapes."""

    def __init__(self, context, count, arrays):
        self.arrays = [(tuple(shape), np.dtype(dtype)) for shape, dtype in arrays]
        self.buffers = [context.RawArray('b', sum(int(np.prod(shape)) * dtype.itemsize
                                                  for shape, dtype in self.arrays))
                        for _ in range(count)]

    def views(self, slot):
        """Numpy views of slot `slot`'s arrays (no copy)."""
        views, offset = [], 0
        for shape, dtype in self.arrays:
            count = int(np.prod(shape))
            views.append(np.frombuffer(self.buffers[slot], dtype, count, offset).reshape(shape))
            offset += count * dtype.itemsize
        return views


class _Stopped(Exception):
    """The worker was told to stop, or its trainer died."""


def _keep_trying(action, stop, parent_pid):
    """Retry action() while it times out (queue.Full/Empty) and return its result."""
    while True:
        if stop.is_set() or os.getppid() != parent_pid:
            raise _Stopped
        try:
            return action()
        except (queue.Full, queue.Empty):
            continue


def _worker_loop(fn, worker_id, results, stop, parent_pid, slots, free_slots):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Never block exit on flushing items nobody will read.
    results.cancel_join_thread()
    try:
        while not stop.is_set():
            item = fn(worker_id)
            if slots is not None:
                slot = _keep_trying(lambda: free_slots.get(timeout=0.5), stop, parent_pid)
                for view, array in zip(slots.views(slot), item):
                    view[...] = array
                item = slot
            _keep_trying(lambda: results.put(('ok', item), timeout=0.5), stop, parent_pid)
    except _Stopped:
        return
    except Exception as err:  # reported to the trainer, which owns the error message
        last = traceback.extract_tb(err.__traceback__)[-1]
        try:
            results.put(('error', f"{type(err).__name__}: {err} "
                                  f"(at {os.path.basename(last.filename)}:{last.lineno})"),
                        timeout=10)
        finally:
            sys.exit(1)


class MPData:
    """`num_processes` workers each call `fn(worker_id)` in a loop; `get` returns a result.

    At most `max_queue_size` results wait in the queues (at least one per worker), so a
    stalled consumer stalls the workers instead of filling memory. With `arrays`, the
    (shape, dtype) of each array in the tuples fn returns, results go through shared memory.
    `on_wait()`, if given, is called while `get` waits; what it raises, `get` raises."""

    def __init__(self, num_processes, max_queue_size, fn, arrays=None, on_wait=None):
        if num_processes < 1:
            raise ValueError(f"num_processes must be at least 1, got {num_processes}")
        if max_queue_size < 1:
            raise ValueError(f"max_queue_size must be at least 1, got {max_queue_size}")
        self.num_processes, self.max_queue_size, self.fn = num_processes, max_queue_size, fn
        self.arrays, self.on_wait = arrays, on_wait
        self.context = multiprocessing.get_context('spawn')
        self.processes = []

    def start(self):
        """Start the workers (a no-op while they run)."""
        if self.processes:
            return
        per_worker = max(1, self.max_queue_size // self.num_processes)
        self.queues = [self.context.Queue(per_worker) for _ in range(self.num_processes)]
        self.slots, self.free_slots = [None] * self.num_processes, [None] * self.num_processes
        if self.arrays is not None:
            # one slot per queued result, plus the one being filled
            self.slots = [SharedSlots(self.context, per_worker + 1, self.arrays)
                          for _ in range(self.num_processes)]
            self.free_slots = [self.context.Queue() for _ in range(self.num_processes)]
            for free in self.free_slots:
                for slot in range(per_worker + 1):
                    free.put(slot)
        self.stop = self.context.Event()
        self.next_worker = 0
        for worker_id, results in enumerate(self.queues):
            process = self.context.Process(
                target=_worker_loop, name=f"captcha-worker-{worker_id}", daemon=True,
                args=(self.fn, worker_id, results, self.stop, os.getpid(),
                      self.slots[worker_id], self.free_slots[worker_id]))
            process.start()
            self.processes.append(process)

    def check_workers(self):
        """Raise WorkerError if any worker has exited, with its own error message if it sent one."""
        for process, results in zip(self.processes, self.queues):
            if process.is_alive():
                continue
            try:  # a worker that raised queued its error just before exiting
                while True:
                    status, payload = results.get(timeout=0.5)
                    if status == 'error':
                        raise WorkerError(f"captcha worker failed: {payload}")
            except queue.Empty:
                pass
            code = process.exitcode
            cause = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
                     else f"exit code {code}")
            raise WorkerError(f"{process.name} died ({cause})")

    def get(self):
        """Block until the next worker in turn delivers; raise WorkerError if one failed or died."""
        if not self.processes:
            raise RuntimeError("MPData.get() called before start()")
        worker = self.next_worker
        self.next_worker = (self.next_worker + 1) % self.num_processes
        while True:
            try:
                status, payload = self.queues[worker].get(timeout=0.5)
            except queue.Empty:
                self.check_workers()
                if self.on_wait is not None:
                    self.on_wait()
                continue
            if status == 'error':
                raise WorkerError(f"captcha worker failed: {payload}")
            self.check_workers()
            if self.arrays is None:
                return payload
            arrays = tuple(view.copy() for view in self.slots[worker].views(payload))
            self.free_slots[worker].put(payload)  # the worker may refill it now
            return arrays

    def reset(self):
        """Stop every worker and wait for it to exit; `start` may be called again after."""
        if not self.processes:
            return
        self.stop.set()
        for process in self.processes:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join()
        for results in self.queues + [q for q in self.free_slots if q is not None]:
            results.close()
            results.cancel_join_thread()
        self.processes = []

    def __del__(self):
        self.reset()

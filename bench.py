"""Benchmarks of the LSTM-OCR example: one line per figure, `name value unit`.

    python bench.py           # every figure
    python bench.py --quick   # fewer repetitions

Where a figure has a baseline measured in the same run, a line `name_ratio value` follows.
Figures are medians over repetitions, so one slow repetition does not move them.
"""
import statistics
import time

import mxnet as mx
import numpy as np

import lstm
from cli import Parser

SEQ_LEN, NUM_LABEL, BATCH = 80, 4, 128


def report(name, value, unit):
    print(f"{name} {value:.4g} {unit}", flush=True)


def median_seconds(run, repeats, warmup=2):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ctc_head_step(loss_type):
    """Forward+backward of one CTC head alone on fixed activations for a batch of 128."""
    scores = mx.sym.Variable('data')
    if loss_type == 'ctc':
        head = lstm.add_ctc_loss(scores, SEQ_LEN)
    else:
        head = lstm.add_warpctc_loss(scores, SEQ_LEN, NUM_LABEL)
    rng = np.random.RandomState(0)
    executor = head.simple_bind(mx.cpu(), data=(SEQ_LEN * BATCH, lstm.NUM_CLASSES),
                                label=(BATCH, NUM_LABEL), grad_req={'data': 'write',
                                                                     'label': 'null'})
    executor.arg_dict['data'][:] = rng.normal(0, 1, (SEQ_LEN * BATCH, lstm.NUM_CLASSES))
    executor.arg_dict['label'][:] = rng.randint(1, 11, (BATCH, NUM_LABEL))

    def step():
        executor.forward(is_train=True)
        executor.backward()
        executor.grad_dict['data'].wait_to_read()
    return step


def bench_ctc_heads(repeats):
    contrib = median_seconds(ctc_head_step('ctc'), repeats)
    warp = median_seconds(ctc_head_step('warpctc'), repeats)
    report('ctc_head_contrib_ms', contrib * 1000, 'ms/batch128')
    report('ctc_head_warpctc_ms', warp * 1000, 'ms/batch128')
    report('ctc_head_warpctc_ratio', warp / contrib, '')


def main():
    parser = Parser(description="Benchmarks of the LSTM-OCR example, one figure per line.")
    parser.add_argument('--quick', action='store_true', help="fewer repetitions")
    args = parser.parse_args()
    bench_ctc_heads(repeats=5 if args.quick else 20)


if __name__ == '__main__':
    main()

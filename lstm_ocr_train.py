"""Train the LSTM-OCR network with CTC loss on captchas drawn while it trains.

    python lstm_ocr_train.py font/                          # one CPU, ctc_loss
    python lstm_ocr_train.py --gpu 1 --num_proc 4 --loss warpctc font/Ubuntu-M.ttf

Worker processes draw fresh training captchas every epoch; the validation set is drawn once
from a fixed seed, so its accuracy is comparable across epochs and runs. After every epoch
the model is saved as PREFIX-symbol.json + PREFIX-NNNN.params (written to a temporary name
and renamed, so an interrupted run never leaves a half-written checkpoint).
"""
import dataclasses
import logging
import os
import random
import signal
import sys

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import DigitCaptcha, MPDigitCaptcha, find_fonts
from cli import Parser, fail, positive_float, positive_int
from ctc_metrics import CtcMetrics
from hyperparameters import Hyperparams
from multiproc_data import WorkerError
from ocr_iter import OCRIter, fixed_iter

VALIDATION_SEED = 20180101  # the validation captchas are the same in every run
TUNABLE = ('batch_size', 'num_epoch', 'train_epoch_size', 'eval_epoch_size',
           'learning_rate', 'momentum', 'num_hidden', 'num_lstm_layer')


def parse_args():
    defaults = Hyperparams()
    parser = Parser(description="Train the LSTM-OCR example with CTC loss on random captchas.")
    parser.add_argument('font_path', help="a .ttf font file, or a folder of them")
    parser.add_argument('--loss', choices=['ctc', 'warpctc'], default='ctc',
                        help="CTC head: MXNet's contrib.ctc_loss, or the WarpCTC head")
    parser.add_argument('--cpu', type=positive_int, default=1,
                        help="number of CPU contexts (ignored with --gpu)")
    parser.add_argument('--gpu', type=positive_int, help="number of GPUs to train on")
    parser.add_argument('--num_proc', type=positive_int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="captcha-drawing worker processes")
    parser.add_argument('--prefix', default='ocr', help="checkpoint prefix")
    parser.add_argument('--metric', choices=['acc', 'lcs'], default='acc',
                        help="accuracy measure: exact match, or longest-common-subsequence ratio")
    parser.add_argument('--seed', type=int, help="random seed for a reproducible run")
    for field in dataclasses.fields(Hyperparams):
        if field.name in TUNABLE:
            kind = positive_int if field.type is int else positive_float
            parser.add_argument(f"--{field.name}", type=kind, default=getattr(defaults, field.name))
    args = parser.parse_args()
    args.hp = Hyperparams(**{name: getattr(args, name) for name in TUNABLE})
    return args


def contexts(args):
    if args.gpu:
        if mx.context.num_gpus() < args.gpu:
            fail(f"--gpu {args.gpu} asked for, but this MXNet sees {mx.context.num_gpus()} GPUs "
                 "(the pip 'mxnet' package is CPU-only; install e.g. mxnet-cu112, or drop --gpu)")
        return [mx.gpu(i) for i in range(args.gpu)]
    return [mx.cpu(i) for i in range(args.cpu)]


def check_prefix_writable(prefix):
    folder = os.path.dirname(os.path.abspath(prefix))
    if not os.path.isdir(folder):
        fail(f"checkpoint folder {folder!r} does not exist: create it or change --prefix")
    if not os.access(folder, os.W_OK):
        fail(f"checkpoint folder {folder!r} is not writable: change --prefix")


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params):
    """The files of mx.model.save_checkpoint, each written to a temporary name and renamed."""
    symbol_file, params_file = f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"
    params = {**{f"arg:{k}": v for k, v in arg_params.items()},
              **{f"aux:{k}": v for k, v in aux_params.items()}}
    symbol.save(f"{symbol_file}.tmp{os.getpid()}")
    mx.nd.save(f"{params_file}.tmp{os.getpid()}", params)
    os.replace(f"{symbol_file}.tmp{os.getpid()}", symbol_file)
    os.replace(f"{params_file}.tmp{os.getpid()}", params_file)
    logging.info('Saved checkpoint to "%s"', params_file)


def checkpoint_callback(prefix):
    def callback(epoch, symbol, arg_params, aux_params):
        save_checkpoint(prefix, epoch + 1, symbol, arg_params, aux_params)
    return callback


def make_metric(loss, metric, seq_len):
    measures = CtcMetrics(seq_len)
    feval = measures.accuracy if metric == 'acc' else measures.accuracy_lcs
    name = 'accuracy' if metric == 'acc' else 'lcs_accuracy'
    composite = mx.metric.CompositeEvalMetric()
    composite.add(mx.metric.CustomMetric(feval, name=name, output_names=['softmax_output'],
                                         label_names=['label'], allow_extra_outputs=True))
    if loss == 'ctc':  # the WarpCTC head outputs only the softmax
        composite.add(mx.metric.Loss(name='ctc_loss', output_names=['ctc_output'],
                                     label_names=['label']))
    return composite


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def raise_on_sigterm():
    def handler(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, handler)


def main():
    args = parse_args()
    hp = args.hp
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    try:
        fonts = find_fonts(args.font_path)
    except ValueError as err:
        fail(err)
    if hp.train_epoch_size < hp.batch_size or hp.eval_epoch_size < hp.batch_size:
        fail(f"--train_epoch_size and --eval_epoch_size must be at least --batch_size "
             f"({hp.batch_size})")
    check_prefix_writable(args.prefix)
    context = contexts(args)
    if args.seed is not None:
        seed_everything(args.seed)
    raise_on_sigterm()

    init_states = lstm.init_states(hp.batch_size, hp.num_lstm_layer, hp.num_hidden)
    train_captcha = MPDigitCaptcha(fonts, num_label=hp.num_label, num_processes=args.num_proc,
                                   max_queue_size=2 * args.num_proc, batch_size=hp.batch_size,
                                   seed=args.seed)
    train_captcha.start()
    try:
        logging.info("Drawing %d validation captchas with %d font(s)",
                     hp.eval_epoch_size, len(fonts))
        val_iter = fixed_iter(DigitCaptcha(fonts, num_label=hp.num_label, seed=VALIDATION_SEED),
                              hp.eval_epoch_size, hp.batch_size, init_states, hp.num_label)
        train_iter = OCRIter(hp.train_epoch_size // hp.batch_size, hp.batch_size, init_states,
                             train_captcha, hp.num_label, name='train')
        symbol = lstm.lstm_unroll(hp.num_lstm_layer, hp.seq_length, hp.num_hidden,
                                  hp.num_label, loss_type=args.loss)
        module = mx.mod.Module(symbol, data_names=['data'] + [n for n, _ in init_states],
                               label_names=['label'], context=context)
        module.fit(train_data=train_iter, eval_data=val_iter,
                   eval_metric=make_metric(args.loss, args.metric, hp.seq_length),
                   optimizer='sgd',
                   optimizer_params={'learning_rate': hp.learning_rate,
                                     'momentum': hp.momentum, 'wd': 0.00001},
                   initializer=mx.init.Xavier(factor_type='in', magnitude=2.34),
                   num_epoch=hp.num_epoch,
                   batch_end_callback=mx.callback.Speedometer(
                       hp.batch_size, frequent=min(50, max(1, train_iter.count // 4))),
                   epoch_end_callback=checkpoint_callback(args.prefix))
    except WorkerError as err:
        fail(err)
    except KeyboardInterrupt as why:
        print(f"error: training interrupted ({why or 'SIGINT'}); checkpoints written so far "
              "are complete", file=sys.stderr)
        sys.exit(130)
    finally:
        train_captcha.reset()


if __name__ == '__main__':
    main()

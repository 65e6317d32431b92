"""Train the LSTM-OCR network with CTC loss on captchas drawn while it trains.

    python lstm_ocr_train.py font/                          # one CPU, ctc_loss
    python lstm_ocr_train.py --gpu 1 --num_proc 4 --loss warpctc font/Ubuntu-M.ttf

Worker processes draw fresh training captchas every epoch; the validation set is drawn once
from a fixed seed, so its accuracy is comparable across epochs and runs. After every epoch
the model is saved as PREFIX-symbol.json + PREFIX-NNNN.params (written to a temporary name
and renamed, so an interrupted run never leaves a half-written checkpoint).
"""
import argparse
import dataclasses
import logging
import os
import random
import signal
import sys
import time

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import COLUMN_HEIGHT, DigitCaptcha, MPDigitCaptcha, find_fonts
from cli import Parser, fail, non_negative_float, positive_float, positive_int
from ctc_metrics import CtcMetrics
from hyperparameters import RECIPES, Hyperparams
from multiproc_data import WorkerError
from ocr_iter import OCRIter, fixed_iter

VALIDATION_SEED = 20180101  # the validation captchas are the same in every run
FIXED_BY_DATA = ('num_label', 'seq_length')  # set by the captchas, not tunable


def channel_list(text):
    """'32,32' -> (32, 32); '' or 'none' -> () (no convolutional front end)."""
    if text.strip().lower() in ('', 'none'):
        return ()
    try:
        channels = tuple(int(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers")
    if min(channels) < 1:
        raise argparse.ArgumentTypeError(f"channel counts must be at least 1, got {text!r}")
    return channels


def add_hyperparameter(parser, setting, default):
    flag, help = f"--{setting.name}", setting.metadata['help']
    if isinstance(default, bool):
        parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                            help=help)
    elif isinstance(default, tuple):
        parser.add_argument(flag, type=channel_list, default=default, help=help)
    elif setting.name == 'optimizer':
        parser.add_argument(flag, choices=['sgd', 'adam'], default=default, help=help)
    elif setting.name == 'lr_schedule':
        parser.add_argument(flag, choices=['constant', 'cosine'], default=default, help=help)
    elif setting.name in ('momentum', 'clip_gradient'):
        parser.add_argument(flag, type=non_negative_float, default=default, help=help)
    else:
        kind = positive_int if isinstance(default, int) else positive_float
        parser.add_argument(flag, type=kind, default=default, help=help)


def parse_args(argv=None):
    # The recipe sets the other options' defaults, so it is read first.
    recipe_parser = Parser(add_help=False)
    recipe_parser.add_argument('--recipe', choices=sorted(RECIPES), default='fast',
                               help="default settings below: 'fast', or the original "
                                    "example's 'seed'")
    recipe = recipe_parser.parse_known_args(argv)[0].recipe
    defaults = RECIPES[recipe]

    parser = Parser(description="Train the LSTM-OCR example with CTC loss on random captchas.",
                    parents=[recipe_parser])
    parser.add_argument('font_path', help="a .ttf font file, or a folder of them")
    parser.add_argument('--loss', choices=['ctc', 'warpctc'], default='ctc',
                        help="CTC head: MXNet's contrib.ctc_loss, or the WarpCTC head")
    parser.add_argument('--cpu', type=positive_int, default=1,
                        help="number of CPU contexts (ignored with --gpu)")
    parser.add_argument('--gpu', type=positive_int, help="number of GPUs to train on")
    parser.add_argument('--num_proc', type=positive_int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="captcha-drawing worker processes")
    parser.add_argument('--prefix', default='ocr', help="checkpoint prefix")
    parser.add_argument('--load_epoch', type=positive_int,
                        help="resume from checkpoint PREFIX-NNNN.params (and .states) of this epoch")
    parser.add_argument('--metric', choices=['acc', 'lcs'], default='acc',
                        help="accuracy measure: exact match, or longest-common-subsequence ratio")
    parser.add_argument('--seed', type=int, help="random seed for a reproducible run")
    tunable = [f for f in dataclasses.fields(Hyperparams) if f.name not in FIXED_BY_DATA]
    group = parser.add_argument_group(f"hyperparameters (defaults: recipe '{recipe}')")
    for setting in tunable:
        add_hyperparameter(group, setting, getattr(defaults, setting.name))
    args = parser.parse_args(argv)
    args.hp = dataclasses.replace(defaults, **{f.name: getattr(args, f.name) for f in tunable})
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


def save_checkpoint(prefix, epoch, module):
    """The files of Module.save_checkpoint (symbol, params, optimizer states), each written
    to a temporary name and renamed, so a killed run never leaves a half-written file."""
    arg_params, aux_params = module.get_params()
    params = {**{f"arg:{k}": v for k, v in arg_params.items()},
              **{f"aux:{k}": v for k, v in aux_params.items()}}
    files = {f"{prefix}-symbol.json": module.symbol.save,
             f"{prefix}-{epoch:04d}.states": module.save_optimizer_states,
             f"{prefix}-{epoch:04d}.params": lambda path: mx.nd.save(path, params)}
    for final, write in files.items():  # params last: its presence means the rest is there
        write(f"{final}.tmp{os.getpid()}")
        os.replace(f"{final}.tmp{os.getpid()}", final)
    logging.info('Saved checkpoint to "%s-%04d.params"', prefix, epoch)


def checkpoint_callback(prefix, module):
    def callback(epoch, symbol, arg_params, aux_params):
        save_checkpoint(prefix, epoch + 1, module)
    return callback


def elapsed_callback(start):
    """After each validation: wall-clock time since the script started."""
    def callback(param):
        logging.info("Epoch[%d] Validation done %.1f minutes after start",
                     param.epoch, (time.time() - start) / 60)
    return callback


def build_module(args, init_states, context):
    """A new Module for the recipe, or, with --load_epoch, the checkpoint's with its
    optimizer states."""
    hp = args.hp
    data_names = ['data'] + [name for name, _ in init_states]
    if args.load_epoch is None:
        symbol = lstm.lstm_unroll(hp.num_lstm_layer, hp.seq_length, hp.num_hidden, hp.num_label,
                                  loss_type=args.loss, normalize=hp.normalize,
                                  conv_channels=hp.conv_channels, bidirectional=hp.bidirectional)
        return mx.mod.Module(symbol, data_names=data_names, label_names=['label'],
                             context=context)
    params = f"{args.prefix}-{args.load_epoch:04d}.params"
    if not os.path.isfile(params):
        fail(f"cannot resume: {params!r} not found (check --prefix and --load_epoch)")
    states = f"{args.prefix}-{args.load_epoch:04d}.states"
    module = mx.mod.Module.load(args.prefix, args.load_epoch,
                                load_optimizer_states=os.path.isfile(states),
                                data_names=data_names, label_names=['label'], context=context)
    input_shapes = dict(init_states, data=(hp.batch_size, hp.seq_length, COLUMN_HEIGHT),
                        label=(hp.batch_size, hp.num_label))
    try:
        module.symbol.infer_shape(**input_shapes)
    except mx.base.MXNetError:
        fail(f"cannot resume: {params!r} was trained with other settings; pass the --recipe "
             "and network options it was trained with")
    return module


def optimizer_params(hp, batches_per_epoch, begin_epoch):
    # Module's saved optimizer states do not hold the update count: restore it for the schedule
    params = {'learning_rate': hp.learning_rate, 'wd': 0.00001,
              'begin_num_update': begin_epoch * batches_per_epoch}
    if hp.lr_schedule == 'cosine':
        params['lr_scheduler'] = mx.lr_scheduler.CosineScheduler(
            max_update=hp.num_epoch * batches_per_epoch, base_lr=hp.learning_rate)
    if hp.optimizer == 'sgd':
        params['momentum'] = hp.momentum
    if hp.clip_gradient > 0:
        params['clip_gradient'] = hp.clip_gradient
    return params


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
    start = time.time()
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

    init_states = lstm.init_states(hp.batch_size, hp.num_lstm_layer, hp.num_hidden,
                                   hp.bidirectional)
    module = build_module(args, init_states, context)
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
        module.fit(train_data=train_iter, eval_data=val_iter,
                   eval_metric=make_metric(args.loss, args.metric, hp.seq_length),
                   optimizer=hp.optimizer,
                   optimizer_params=optimizer_params(hp, train_iter.count, args.load_epoch or 0),
                   initializer=mx.init.Xavier(factor_type='in', magnitude=2.34),
                   begin_epoch=args.load_epoch or 0, num_epoch=hp.num_epoch,
                   batch_end_callback=mx.callback.Speedometer(
                       hp.batch_size, frequent=min(50, max(1, train_iter.count // 4))),
                   epoch_end_callback=checkpoint_callback(args.prefix, module),
                   eval_end_callback=elapsed_callback(start))
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

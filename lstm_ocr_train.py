"""Train the LSTM-OCR network with CTC loss on captchas drawn while it trains.

    python lstm_ocr_train.py font/                          # one CPU, ctc_loss
    python lstm_ocr_train.py --gpu 1 --num_proc 4 --loss warpctc font/Ubuntu-M.ttf
    python lstm_ocr_train.py --rnn fused --train_rec data/train.rec --val_rec data/val.rec

Worker processes draw fresh training captchas every epoch (or a RecordIO dataset written by
captcha_generator.py --rec is read once); the validation set is drawn once from a fixed
seed, so its accuracy is comparable across epochs and runs. After every epoch
the model is saved as PREFIX-symbol.json + PREFIX-NNNN.params (written to a temporary name
and renamed, so an interrupted run never leaves a half-written checkpoint), and a row of
figures is added to PREFIX-log.csv (plot it with plot_log.py).
"""
import argparse
import csv
import dataclasses
import faulthandler
import hashlib
import logging
import os
import random
import signal
import sys
import time
import traceback

from cli import Parser, fail, non_negative_float, positive_float, positive_int, use_every_core

UNDER_LAUNCHER = 'DMLC_ROLE' in os.environ  # one process of a distributed job

# Training from a RecordIO file alone on the machine has no captcha worker to leave a core
# for. Decided from the raw command line: it must happen before mxnet is imported.
if any(arg.startswith('--train_rec') for arg in sys.argv[1:]) and not UNDER_LAUNCHER:
    use_every_core()

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import COLUMN_HEIGHT, DigitCaptcha, MPDigitCaptcha, find_fonts
from ctc_metrics import CtcMetrics
from hyperparameters import RECIPES, Hyperparams
from multiproc_data import WorkerError
from ocr_iter import OCRIter, RecordCaptchaSet, fixed_iter

VALIDATION_SEED = 20180101  # the validation captchas are the same in every run
FIXED_BY_DATA = ('num_label', 'seq_length')  # set by the captchas, not tunable
METRIC_NAMES = {'acc': 'accuracy', 'lcs': 'lcs_accuracy'}
LOGGED_FIGURES = ['accuracy', 'lcs_accuracy', 'ctc_loss']  # per epoch, in PREFIX-log.csv


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
    elif setting.name == 'rnn':
        parser.add_argument(flag, choices=['unrolled', 'fused'], default=default, help=help)
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
    parser.add_argument('font_path', nargs='?',
                        help="a .ttf font file, or a folder of them, to draw captchas with")
    parser.add_argument('--train_rec', metavar='FILE',
                        help="train on this RecordIO dataset (captcha_generator.py --rec), "
                             "one pass per epoch, instead of fresh captchas")
    parser.add_argument('--val_rec', metavar='FILE',
                        help="validate on this RecordIO dataset instead of drawing "
                             "--eval_epoch_size captchas")
    parser.add_argument('--loss', choices=['ctc', 'warpctc'], default='ctc',
                        help="CTC head: MXNet's contrib.ctc_loss, or the WarpCTC head")
    parser.add_argument('--cpu', type=positive_int, default=1,
                        help="number of CPU contexts (ignored with --gpu)")
    parser.add_argument('--gpu', type=positive_int, help="number of GPUs to train on")
    parser.add_argument('--kv_store', default='local',
                        choices=['local', 'device', 'dist_sync', 'dist_async', 'dist_device_sync'],
                        help="how gradients from several contexts or machines are combined; "
                             "dist_* run under launch_local.py or MXNet's tools/launch.py")
    parser.add_argument('--num_proc', type=positive_int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="captcha-drawing worker processes")
    parser.add_argument('--prefix', default='ocr', help="checkpoint prefix")
    parser.add_argument('--load_epoch', type=positive_int,
                        help="resume from checkpoint PREFIX-NNNN.params (and .states) of this "
                             "epoch")
    parser.add_argument('--metric', choices=['acc', 'lcs'], default='acc',
                        help="training accuracy logged: exact match, or longest-common-"
                             "subsequence ratio (validation and PREFIX-log.csv report both)")
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


def save_checkpoint(prefix, epoch, module, with_states=True):
    """The files of Module.save_checkpoint (symbol, params, optimizer states unless they
    live on parameter servers), each written to a temporary name and renamed, so a killed
    run never leaves a half-written file."""
    arg_params, aux_params = module.get_params()
    params = {**{f"arg:{k}": v for k, v in arg_params.items()},
              **{f"aux:{k}": v for k, v in aux_params.items()}}
    files = {f"{prefix}-symbol.json": module.symbol.save}
    if with_states:
        files[f"{prefix}-{epoch:04d}.states"] = module.save_optimizer_states
    files[f"{prefix}-{epoch:04d}.params"] = lambda path: mx.nd.save(path, params)
    for final, write in files.items():  # params last: its presence means the rest is there
        write(f"{final}.tmp{os.getpid()}")
        os.replace(f"{final}.tmp{os.getpid()}", final)
    logging.info('Saved checkpoint to "%s-%04d.params"', prefix, epoch)


def checkpoint_callback(prefix, module, with_states):
    def callback(epoch, symbol, arg_params, aux_params):
        save_checkpoint(prefix, epoch + 1, module, with_states)
    return callback


class EpochLog:
    """Per-epoch figures, appended to PREFIX-log.csv after every validation (plot them with
    plot_log.py). The train figures are the epoch's averages (Speedometer does not reset the
    metric), samples/s counts training only, minutes count from the script's start."""
    FIELDS = (['epoch'] + [f"train_{name}" for name in LOGGED_FIGURES]
              + [f"val_{name}" for name in LOGGED_FIGURES] + ['samples_per_s', 'minutes'])

    def __init__(self, path, start, train_metric, samples_per_epoch, append):
        self.path, self.start, self.train_metric = path, start, train_metric
        self.samples_per_epoch = samples_per_epoch
        self.epoch_start = time.time()
        if path is not None and not (append and os.path.isfile(path)):
            with open(path, 'w', newline='') as f:
                csv.writer(f).writerow(self.FIELDS)

    def training_done(self, epoch, symbol, arg_params, aux_params):
        self.train = dict(self.train_metric.get_name_value())
        self.samples_per_s = self.samples_per_epoch / (time.time() - self.epoch_start)

    def validation_done(self, param):
        minutes = (time.time() - self.start) / 60
        logging.info("Epoch[%d] Validation done %.1f minutes after start", param.epoch, minutes)
        val = dict(param.eval_metric.get_name_value())
        row = [param.epoch + 1] + [self.train.get(name, '') for name in LOGGED_FIGURES] \
            + [val.get(name, '') for name in LOGGED_FIGURES] \
            + [round(self.samples_per_s, 1), round(minutes, 2)]
        if self.path is not None:  # only one worker of a distributed run writes it
            with open(self.path, 'a', newline='') as f:
                csv.writer(f).writerow([round(x, 6) if isinstance(x, float) else x
                                        for x in row])
        self.epoch_start = time.time()


def build_module(args, init_states, context):
    """A new Module for the recipe, or, with --load_epoch, the checkpoint's with its
    optimizer states."""
    hp = args.hp
    data_names = ['data'] + [name for name, _ in init_states]
    if args.load_epoch is None:
        symbol = lstm.recipe_network(hp, loss_type=args.loss)
        return mx.mod.Module(symbol, data_names=data_names, label_names=['label'],
                             context=context)
    params = f"{args.prefix}-{args.load_epoch:04d}.params"
    if not os.path.isfile(params):
        fail(f"cannot resume: {params!r} not found (check --prefix and --load_epoch)")
    states = f"{args.prefix}-{args.load_epoch:04d}.states"
    try:
        module = mx.mod.Module.load(args.prefix, args.load_epoch,
                                    load_optimizer_states=os.path.isfile(states)
                                    and not is_distributed(args.kv_store),
                                    data_names=data_names, label_names=['label'],
                                    context=context)
    except (mx.base.MXNetError, OSError):
        fail(f"cannot resume: {params!r} or {args.prefix}-symbol.json is unreadable "
             "(truncated or not an MXNet checkpoint); resume from another --load_epoch")
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


def make_metric(loss, metrics, seq_len):
    """Exact-match and/or LCS accuracy ('acc', 'lcs'), and the loss where the head gives one."""
    measures = CtcMetrics(seq_len)
    composite = mx.metric.CompositeEvalMetric()
    for metric in metrics:
        feval = measures.accuracy if metric == 'acc' else measures.accuracy_lcs
        composite.add(mx.metric.CustomMetric(feval, name=METRIC_NAMES[metric],
                                             output_names=['softmax_output'],
                                             label_names=['label'], allow_extra_outputs=True))
    if loss == 'ctc':  # the WarpCTC head outputs only the softmax
        composite.add(mx.metric.Loss(name='ctc_loss', output_names=['ctc_output'],
                                     label_names=['label']))
    return composite


def record_set(path, hp, shuffle, seed=None, shard=(0, 1)):
    """A RecordIO dataset in memory (its share `shard` = (index, count)), or a one-line
    failure."""
    try:
        records = RecordCaptchaSet(path, hp.num_label, shuffle=shuffle, seed=seed, shard=shard)
    except ValueError as err:
        fail(err)
    if len(records) < hp.batch_size:
        fail(f"{path!r} holds {len(records)} captchas, fewer than one batch ({hp.batch_size})")
    logging.info("Read %d captchas from %s", len(records), path)
    return records


def validation_iter(args, fonts, init_states):
    """The fixed validation set: a RecordIO dataset in file order, or eval_epoch_size
    captchas drawn from VALIDATION_SEED (the same ones in every run with these fonts)."""
    hp = args.hp
    if args.val_rec:
        records = record_set(args.val_rec, hp, shuffle=False)
        return OCRIter(len(records) // hp.batch_size, hp.batch_size, init_states, records,
                       hp.num_label, name='val')
    logging.info("Drawing %d validation captchas with %d font(s)", hp.eval_epoch_size,
                 len(fonts))
    return fixed_iter(DigitCaptcha(fonts, num_label=hp.num_label, seed=VALIDATION_SEED),
                      hp.eval_epoch_size, hp.batch_size, init_states, hp.num_label)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def handle_signals():
    """SIGTERM stops training as Ctrl-C does; SIGUSR1 prints every thread's Python stack to
    stderr, to see where a run that seems stuck is (kill -USR1 PID)."""
    def handler(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, handler)
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def check_settings(args):
    """Fail with one line on settings that cannot work together -> the fonts to draw with."""
    hp = args.hp
    if args.font_path is None and not (args.train_rec and args.val_rec):
        fail("give FONT_PATH, the fonts to draw captchas with (it may be left out only when "
             "both --train_rec and --val_rec are given)")
    try:
        fonts = find_fonts(args.font_path) if args.font_path else []
    except ValueError as err:
        fail(err)
    if hp.train_epoch_size < hp.batch_size or hp.eval_epoch_size < hp.batch_size:
        fail(f"--train_epoch_size and --eval_epoch_size must be at least --batch_size "
             f"({hp.batch_size})")
    if hp.column_pool > 1 and not hp.conv_channels:
        fail("--column_pool needs the convolutional front end: set --conv_channels too")
    if hp.seq_length % hp.column_pool:
        fail(f"--column_pool must divide the {hp.seq_length} pixel columns (1, 2, 4, 5, 8, ...)")
    return fonts


def is_distributed(kv_store):
    """A parameter-server kvstore: its optimizer states live on the servers, not here."""
    return kv_store.startswith('dist')


def create_kvstore(name):
    """A kvstore object for MXNet's distributed ones (they need DMLC_* variables, set by
    launch_local.py or MXNet's tools/launch.py); local names go to Module.fit as strings."""
    if not is_distributed(name):
        return name
    if not UNDER_LAUNCHER:
        fail(f"--kv_store {name} needs a launcher: run under launch_local.py (one machine) or "
             "MXNet's tools/launch.py (several)")
    return mx.kv.create(name)


def training_source(args, fonts, rank, num_workers):
    """Fresh captchas from worker processes (each training worker seeded by its rank), or
    this worker's share of a RecordIO dataset -> (source, count of batches per epoch)."""
    hp = args.hp
    seed = None if args.seed is None else args.seed + 10007 * rank
    if args.train_rec:
        records = record_set(args.train_rec, hp, shuffle=True, seed=seed,
                             shard=(rank, num_workers))
        return records, len(records) // hp.batch_size
    captcha = MPDigitCaptcha(fonts, num_label=hp.num_label, num_processes=args.num_proc,
                             max_queue_size=2 * args.num_proc, batch_size=hp.batch_size,
                             seed=seed)
    captcha.start()
    return captcha, hp.train_epoch_size // hp.batch_size


def parameter_digest(module):
    """A short hash of every parameter's bytes: equal on workers that hold equal models."""
    arg_params, aux_params = module.get_params()
    digest = hashlib.sha1()
    for name, array in sorted({**arg_params, **aux_params}.items()):
        digest.update(name.encode() + array.asnumpy().tobytes())
    return digest.hexdigest()[:16]


def main():
    start = time.time()
    args = parse_args()
    hp = args.hp
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    fonts = check_settings(args)
    kvstore = create_kvstore(args.kv_store)
    distributed = is_distributed(args.kv_store)
    rank, num_workers = getattr(kvstore, 'rank', 0), getattr(kvstore, 'num_workers', 1)
    if rank == 0:
        check_prefix_writable(args.prefix)
    context = contexts(args)
    if args.seed is not None:
        seed_everything(args.seed)
    handle_signals()

    init_states = lstm.init_states(hp.batch_size, hp.num_lstm_layer, hp.num_hidden,
                                   hp.bidirectional, hp.rnn)
    module = build_module(args, init_states, context)
    train_set = None
    try:
        train_set, count = training_source(args, fonts, rank, num_workers)
        train_iter = OCRIter(count, hp.batch_size, init_states, train_set, hp.num_label,
                             name='train')
        val_iter = validation_iter(args, fonts, init_states)
        steps = lstm.time_steps(hp.seq_length, hp.column_pool)
        train_metric = make_metric(args.loss, [args.metric], steps)
        epoch_log = EpochLog(f"{args.prefix}-log.csv" if rank == 0 else None, start,
                             train_metric, count * hp.batch_size,
                             append=args.load_epoch is not None)
        module.fit(train_data=train_iter, eval_data=val_iter, eval_metric=train_metric,
                   validation_metric=make_metric(args.loss, ['acc', 'lcs'], steps),
                   kvstore=kvstore, optimizer=hp.optimizer,
                   optimizer_params=optimizer_params(hp, count, args.load_epoch or 0),
                   initializer=mx.init.Xavier(factor_type='in', magnitude=2.34),
                   begin_epoch=args.load_epoch or 0, num_epoch=hp.num_epoch,
                   batch_end_callback=mx.callback.Speedometer(
                       hp.batch_size, frequent=min(50, max(1, count // 4)), auto_reset=False),
                   epoch_end_callback=[epoch_log.training_done] + (
                       [checkpoint_callback(args.prefix, module, with_states=not distributed)]
                       if rank == 0 else []),
                   eval_end_callback=epoch_log.validation_done)
        if num_workers > 1:
            logging.info("Worker %d of %d: parameters sha1 %s", rank, num_workers,
                         parameter_digest(module))
    except WorkerError as err:
        fail(err)
    except KeyboardInterrupt as why:
        signal_name = why.args[0] if why.args else 'SIGINT'
        print(f"error: training interrupted ({signal_name}); checkpoints written so far are "
              "complete", file=sys.stderr)
        sys.exit(130)
    finally:
        if isinstance(train_set, MPDigitCaptcha):
            train_set.reset()


def main_under_launcher():
    """main(), but a worker of a distributed job that fails exits at once: a normal exit
    waits in ps-lite's shutdown barrier for the other workers, which wait for this one."""
    try:
        main()
        return
    except SystemExit as stop:
        if not stop.code:
            return
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == '__main__':
    if UNDER_LAUNCHER:
        main_under_launcher()
    else:
        main()

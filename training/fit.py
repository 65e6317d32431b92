"""Training the LSTM-OCR network with Module.fit, in the manner of MXNet's
example/image-classification/common/fit.py: `fit` builds the data, the module and the
callbacks from the command-line arguments of lstm_ocr_train.py, then makes one fit call.

The settings of a run (model_config.ModelConfig) are, for each field: what the command line
gave; else, when resuming or fine-tuning, the checkpoint's (for fine-tuning only the ones
that shape the network, read in at least 40 steps; its training settings are
hyperparameters.FINETUNE); else the recipe's. Library errors are ValueError, WorkerError
and Interrupted; the script turns them into one line and an exit code.
"""
import dataclasses
import hashlib
import logging
import os
import random

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import MPCaptcha, TextCaptcha
from common import datasets
from common.alphabet import DIGITS, Alphabet
from common.fonts import find_fonts
from common.training_log import EpochLog
from ctc_metrics import CtcMetrics
from hyperparameters import (
    NETWORK_FIELDS,
    RECIPES,
    VIEW_FIELDS,
    XAVIER,
    finetuning,
    finetuning_epochs,
)
from ocr_iter import OCRIter, drawn_set, in_order_iter
from training import checkpoint, model_config
from training.model_config import ModelConfig

VALIDATION_SEED = 20180101  # the drawn validation captchas are the same in every run
HOLD_OUT_SEED = 20180102    # the same part of a dataset is held out in every run
METRIC_NAMES = {'acc': 'accuracy', 'lcs': 'lcs_accuracy'}
# Fewer LSTM steps than this a character read 5-character labels far worse: fine-tuned from
# the model shipped until 2026-12-02 (20 steps), 57 % instead of 78 % with 40 (README).
STEPS_PER_CHARACTER = 5


def earlier_config(args):
    """The settings of the checkpoint a run resumes or fine-tunes from (the original
    example's if it has none), or None."""
    if args.load_epoch is not None:
        return model_config.load(args.prefix) or model_config.LEGACY
    if args.finetune is not None:
        prefix, _ = model_config.split_checkpoint(args.finetune)
        return model_config.load(prefix) or model_config.LEGACY
    return None


def settings(args, earlier):
    """The run's recipe settings and alphabet (the longest label comes from the data)."""
    hp = RECIPES[args.recipe]
    if args.finetune is not None:
        hp = finetuning(hp, earlier.hp)
    elif earlier is not None:
        hp = earlier.hp
    hp = dataclasses.replace(hp, **args.explicit)
    if args.finetune is not None:
        log_finetuned_network(args.explicit, earlier.hp, hp)
    why = hp.problem()
    if why:
        raise ValueError(why)
    charset = args.charset or (earlier.charset if earlier else DIGITS)
    if args.load_epoch is not None and charset != earlier.charset:
        raise ValueError(f"cannot resume: {args.prefix} reads {earlier.charset!r}, not "
                         f"--charset {charset!r}; fine-tune with --finetune to change it")
    return hp, Alphabet(charset)


def log_finetuned_network(explicit, checkpoint_hp, hp):
    """Say how a fine-tuned network differs from its checkpoint's (settings given on the
    command line, more LSTM steps), and which other views it reads through."""
    replaced = [f"{name} {getattr(checkpoint_hp, name)!r} by {value!r}"
                for name, value in explicit.items()
                if name in NETWORK_FIELDS and value != getattr(checkpoint_hp, name)]
    if replaced:
        logging.info("Replacing the checkpoint's network settings: %s", ', '.join(replaced))
    if hp.num_steps > checkpoint_hp.num_steps:
        logging.info("Reading in %d LSTM steps where the checkpoint read in %d: fine-tuning "
                     "reads better in more, and column pooling has no parameters "
                     "(--column_pool %d keeps %d)", hp.num_steps, checkpoint_hp.num_steps,
                     checkpoint_hp.column_pool, checkpoint_hp.num_steps)
    views = [name for name in VIEW_FIELDS if getattr(hp, name)]
    if views:
        logging.info("Reading images it is unsure of again through other views, as the "
                     "checkpoint does: %s (lstm_ocr_infer.py --one_view reads once)",
                     ', '.join(views))


class Data:
    """What a run trains and validates on, before its labels are encoded: labelled datasets
    as (views, texts, names), or fonts to draw with."""

    def __init__(self, args, hp, alphabet):
        self.fonts, self.train, self.val = [], None, None
        conversion = model_config.ModelConfig(hp).conversion
        if args.train_data is None or (args.val_data is None and args.font_path):
            if not args.font_path:
                raise ValueError("give FONT_PATH, the fonts to draw captchas with, or "
                                 "--train_data")
            self.fonts = find_fonts(args.font_path, alphabet.chars)
        if args.train_data is not None:
            self.train = datasets.load(args.train_data, conversion, args.cache_dir,
                                       args.skip_bad)
        if args.val_data is not None:
            self.val = datasets.load(args.val_data, conversion, args.cache_dir, args.skip_bad)

    def longest_label(self, alphabet, length):
        texts = [t for loaded in (self.train, self.val) if loaded for t in loaded[1]]
        drawn = length[1] if self.train is None else 0
        return max([drawn] + [len(alphabet.fold(t)) for t in texts])


def run_config(args, earlier, data, hp, alphabet):
    if args.num_label is None:
        num_label = (earlier.num_label if args.load_epoch is not None
                     else data.longest_label(alphabet, args.length))
    else:
        num_label = args.num_label
    loss = args.loss or (earlier.loss if args.load_epoch is not None else 'ctc')
    if hp.num_steps < STEPS_PER_CHARACTER * num_label and hp.finer_pooling():
        finer = dataclasses.replace(hp, column_pool=hp.finer_pooling())
        logging.info("%d LSTM steps for labels of up to %d characters: with fewer than %d a "
                     "character long labels read worse; --column_pool %d gives %d",
                     hp.num_steps, num_label, STEPS_PER_CHARACTER, finer.column_pool,
                     finer.num_steps)
    if alphabet.case and any(t != alphabet.fold(t) for loaded in (data.train, data.val)
                             if loaded for t in loaded[1]):
        logging.info("Labels are folded to %s case: the alphabet %r has that case only",
                     alphabet.case, alphabet.chars)
    return ModelConfig(hp, alphabet.chars, num_label, loss)


def labelled_set(loaded, config, shuffle=False, augment=False, seed=None):
    views, texts, names = loaded
    labels = datasets.encode_labels(texts, names, config.alphabet, config.num_label,
                                    config.hp.num_steps)
    return datasets.LabelledSet(views, labels, shuffle, augment, seed)


def training_source(args, config, data, rank, num_workers, interrupts):
    """Worker processes drawing fresh captchas (each run of workers seeded by its rank), or
    this worker's share of a labelled dataset -> (source, batches per epoch, validation held
    out of the dataset or None)."""
    hp = config.hp
    seed = None if args.seed is None else args.seed + 10007 * rank
    if data.train is None:
        source = MPCaptcha(data.fonts, config.alphabet, args.length, config.num_label,
                           config.conversion, hp.style, num_processes=args.num_proc,
                           max_queue_size=2 * args.num_proc, batch_size=hp.batch_size,
                           seed=seed, on_wait=interrupts.check)
        source.start()
        return source, hp.train_epoch_size // hp.batch_size, None
    train = labelled_set(data.train, config, shuffle=True, augment=hp.augment, seed=seed)
    held_out = None
    if data.val is None and not data.fonts:
        count = max(1, min(len(train) // 10, hp.eval_epoch_size))
        train, held_out = train.split(count, HOLD_OUT_SEED)
        logging.info("Holding out %d of %d images of %s for validation (the same ones in "
                     "every run)", count, count + len(train), args.train_data)
    if num_workers > 1:
        share = np.arange(rank, len(train), num_workers)
        train = datasets.LabelledSet(train.views[share], train.labels[share], True,
                                     hp.augment, seed)
    if len(train) < hp.batch_size:
        raise ValueError(f"{args.train_data!r} gives {len(train)} images to train on, fewer "
                         f"than one batch: lower --batch_size below {hp.batch_size}")
    logging.info("Training on %d images of %s", len(train), args.train_data)
    return train, len(train) // hp.batch_size, held_out


def fewer_passes_if_large(config, samples_per_epoch):
    """A fine-tuning run's config with as many passes over its dataset as
    hyperparameters.finetuning_epochs allows (fewer over a large one), said in the log."""
    epochs = finetuning_epochs(samples_per_epoch)
    if epochs == config.hp.num_epoch:
        return config
    logging.info("Fine-tuning for %d passes instead of %d: %s samples, the most fine-tuning "
                 "takes (over many images fewer passes read as well; --num_epoch sets them)",
                 epochs, config.hp.num_epoch, f"{epochs * samples_per_epoch:,}")
    return dataclasses.replace(config, hp=dataclasses.replace(config.hp, num_epoch=epochs))


def validation_set(args, config, data, held_out):
    """The fixed validation set: a dataset, the part held out of the training data, or
    eval_epoch_size captchas drawn from VALIDATION_SEED (the same ones in every run)."""
    if data.val is not None:
        return labelled_set(data.val, config)
    if held_out is not None:
        return held_out
    hp = config.hp
    logging.info("Drawing %d validation captchas with %d font(s)", hp.eval_epoch_size,
                 len(data.fonts))
    captcha = TextCaptcha(data.fonts, config.alphabet, args.length, config.num_label,
                          config.conversion, seed=VALIDATION_SEED)
    return drawn_set(captcha, hp.eval_epoch_size // hp.batch_size * hp.batch_size)


def build_module(args, config, init_states, context):
    """A new Module for the settings, or the checkpoint's to resume, with its optimizer
    states (unless they live on parameter servers)."""
    data_names = ['data'] + [name for name, _ in init_states]
    if args.load_epoch is None:
        return mx.mod.Module(lstm.config_network(config, config.loss), data_names=data_names,
                             label_names=['label'], context=context)
    module = checkpoint.load_module(args.prefix, args.load_epoch, data_names, context,
                                    with_states=not is_distributed(args.kv_store))
    try:
        module.symbol.infer_shape(**input_shapes(config, init_states))
    except mx.base.MXNetError:
        raise ValueError(f"cannot resume: {checkpoint.params_path(args.prefix, args.load_epoch)!r}"
                         " was trained with other settings; pass the --recipe and network "
                         "options it was trained with")
    return module


def input_shapes(config, init_states):
    hp = config.hp
    return dict(init_states, data=(hp.batch_size, hp.num_columns, hp.column_height),
                label=(hp.batch_size, config.num_label))


def optimizer_params(hp, batches_per_epoch, begin_epoch):
    # Module's saved optimizer states do not hold the update count: restore it for the schedule
    params = {'learning_rate': hp.learning_rate, 'wd': hp.wd,
              'begin_num_update': begin_epoch * batches_per_epoch}
    if hp.lr_schedule == 'cosine':
        params['lr_scheduler'] = mx.lr_scheduler.CosineScheduler(
            max_update=hp.num_epoch * batches_per_epoch, base_lr=hp.learning_rate)
    if hp.optimizer == 'sgd':
        params['momentum'] = hp.momentum
    if hp.clip_gradient > 0:
        params['clip_gradient'] = hp.clip_gradient
    return params


def make_metric(loss, metrics, num_steps):
    """Exact-match and/or LCS accuracy ('acc', 'lcs'), and the loss where the head gives one;
    batch padding is not scored (ctc_metrics.py)."""
    measures = CtcMetrics(num_steps)
    composite = mx.metric.CompositeEvalMetric()
    for metric in metrics:
        feval = measures.accuracy if metric == 'acc' else measures.accuracy_lcs
        composite.add(mx.metric.CustomMetric(feval, name=METRIC_NAMES[metric],
                                             output_names=['softmax_output'],
                                             label_names=['label'], allow_extra_outputs=True))
    if loss == 'ctc':  # the WarpCTC head outputs only the softmax
        composite.add(mx.metric.CustomMetric(measures.loss, name='ctc_loss',
                                             output_names=['ctc_output'],
                                             label_names=['label'], allow_extra_outputs=True))
    return composite


def is_distributed(kv_store):
    """A parameter-server kvstore: its optimizer states live on the servers, not here."""
    return kv_store.startswith('dist')


def create_kvstore(name, under_launcher):
    """A kvstore object for MXNet's distributed ones (they need DMLC_* variables, set by
    launch_local.py or MXNet's tools/launch.py); local names go to Module.fit as strings."""
    if not is_distributed(name):
        return name
    if not under_launcher:
        raise ValueError(f"--kv_store {name} needs a launcher: run under tools/launch_local.py (one "
                         "machine) or MXNet's tools/launch.py (several)")
    return mx.kv.create(name)


def contexts(args):
    if args.gpu:
        if mx.context.num_gpus() < args.gpu:
            raise ValueError(f"--gpu {args.gpu} asked for, but this MXNet sees "
                             f"{mx.context.num_gpus()} GPUs (the pip 'mxnet' package is "
                             "CPU-only; install e.g. mxnet-cu112, or drop --gpu)")
        return [mx.gpu(i) for i in range(args.gpu)]
    return [mx.cpu(i) for i in range(args.cpu)]


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def parameter_digest(module):
    """A short hash of every parameter's bytes: equal on workers that hold equal models."""
    arg_params, aux_params = module.get_params()
    digest = hashlib.sha1()
    for name, array in sorted({**arg_params, **aux_params}.items()):
        digest.update(name.encode() + array.asnumpy().tobytes())
    return digest.hexdigest()[:16]


def prepare(args, rank):
    """Settings and data of a run -> (config, data, contexts, the checkpoint's settings)."""
    earlier = earlier_config(args)
    hp, alphabet = settings(args, earlier)
    if rank == 0:
        checkpoint.check_writable(args.prefix)
    context = contexts(args)
    data = Data(args, hp, alphabet)
    return run_config(args, earlier, data, hp, alphabet), data, context, earlier


def starting_params(args, earlier, module, config, init_states):
    """Module.fit's arguments to start from a checkpoint's parameters (--finetune), or none."""
    if args.finetune is None:
        return {}
    prefix, epoch = model_config.split_checkpoint(args.finetune)
    arg_params, aux_params, notes = checkpoint.finetune_params(
        prefix, epoch, earlier, module.symbol, input_shapes(config, init_states), config)
    for note in notes:
        logging.info(note)
    suggest_letters_model(prefix, earlier, config)
    return dict(arg_params=arg_params, aux_params=aux_params, allow_missing=True)


def suggest_letters_model(prefix, earlier, config):
    """Point to the shipped letters-and-digits model where a run fine-tunes another
    checkpoint for characters it has never read and that model reads them all."""
    new = set(config.charset) - set(earlier.charset)
    alnum = model_config.load(model_config.ALNUM_PREFIX)
    if (not new or alnum is None or not set(config.charset) <= set(alnum.charset)
            or os.path.abspath(prefix) == model_config.ALNUM_PREFIX):
        return
    logging.info(f"{len(new)} characters of --charset are new to the checkpoint; "
                 f"--finetune {os.path.relpath(model_config.ALNUM_PREFIX)}-"
                 f"{model_config.ALNUM_EPOCH:04d} starts from a model that reads them "
                 "all (README, \"Train on your own captchas\")")


def callbacks(args, config, module, rank, count, interrupts, epoch_log):
    """Module.fit's callbacks: speed, the interrupt checks, the log, the checkpoints."""
    save = ([checkpoint.saver(args.prefix, module, config,
                              with_states=not is_distributed(args.kv_store))]
            if rank == 0 else [])
    speed = mx.callback.Speedometer(config.hp.batch_size, frequent=min(50, max(1, count // 4)),
                                    auto_reset=False)
    return dict(batch_end_callback=[speed, interrupts.check],
                eval_batch_end_callback=interrupts.check,
                epoch_end_callback=[epoch_log.training_done] + save,
                eval_end_callback=epoch_log.validation_done)


def fit(args, interrupts, under_launcher, start):
    """Train as the arguments say: one Module.fit call, a checkpoint after every epoch."""
    kvstore = create_kvstore(args.kv_store, under_launcher)
    rank, num_workers = getattr(kvstore, 'rank', 0), getattr(kvstore, 'num_workers', 1)
    config, data, context, earlier = prepare(args, rank)
    hp = config.hp
    if args.seed is not None:
        seed_everything(args.seed)
    init_states = lstm.config_init_states(config, hp.batch_size)
    module = build_module(args, config, init_states, context)
    start_from = starting_params(args, earlier, module, config, init_states)
    source = None
    try:
        source, count, held_out = training_source(args, config, data, rank, num_workers,
                                                  interrupts)
        if (args.finetune is not None and args.train_data is not None and
                'num_epoch' not in args.explicit):
            config = fewer_passes_if_large(config, count * hp.batch_size)
            hp = config.hp
        shape = (hp.num_columns, hp.column_height)
        train_iter = OCRIter(count, hp.batch_size, init_states, source, config.num_label, shape)
        val_iter = in_order_iter(validation_set(args, config, data, held_out), hp.batch_size,
                                 init_states, config.num_label, shape)
        train_metric = make_metric(config.loss, [args.metric], hp.num_steps)
        if rank == 0:
            checkpoint.create_folder(args.prefix)
        epoch_log = EpochLog(f"{args.prefix}-log.csv" if rank == 0 else None, start,
                             train_metric, count * hp.batch_size, args.load_epoch or 0)
        module.fit(train_data=train_iter, eval_data=val_iter, eval_metric=train_metric,
                   validation_metric=make_metric(config.loss, ['acc', 'lcs'], hp.num_steps),
                   kvstore=kvstore, optimizer=hp.optimizer,
                   optimizer_params=optimizer_params(hp, count, args.load_epoch or 0),
                   initializer=mx.init.Xavier(**XAVIER), **start_from,
                   begin_epoch=args.load_epoch or 0, num_epoch=hp.num_epoch,
                   **callbacks(args, config, module, rank, count, interrupts, epoch_log))
        if num_workers > 1:
            logging.info("Worker %d of %d: parameters sha1 %s", rank, num_workers,
                         parameter_digest(module))
    finally:
        if isinstance(source, MPCaptcha):
            source.reset()

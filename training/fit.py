"""Training the LSTM-OCR network with Module.fit, in the manner of MXNet's
example/image-classification/common/fit.py: `fit` builds the data, the module and the
callbacks from a run's resolved settings (settings.py), then makes one fit call.

Library errors are ValueError, WorkerError and Interrupted; the script turns them into one
line and an exit code.
"""
import hashlib
import logging
import random
import warnings

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import MPCaptcha
from common.training_log import EpochLog
from ctc_metrics import CtcMetrics
from hyperparameters import XAVIER
from ocr_iter import OCRIter, in_order_iter
from training import checkpoint
from training.data import training_source, validation_set
from training.settings import FINETUNE_RUN, RESUME

METRIC_NAMES = {'acc': 'accuracy', 'lcs': 'lcs_accuracy'}


def build_module(settings, init_states, context):
    """A new Module for the settings, or the checkpoint's to resume, with its optimizer
    states (unless they live on parameter servers)."""
    config = settings.config
    data_names = ['data'] + [name for name, _ in init_states]
    if settings.kind != RESUME:
        return mx.mod.Module(lstm.config_network(config, config.loss), data_names=data_names,
                             label_names=['label'], context=context)
    module = checkpoint.load_module(*settings.start_from, data_names, context,
                                    with_states=settings.with_optimizer_states)
    try:
        module.symbol.infer_shape(**input_shapes(config, init_states))
    except mx.base.MXNetError:
        raise ValueError(f"cannot resume: {checkpoint.params_path(*settings.start_from)!r} "
                         "was trained with other settings; pass the --recipe and network "
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


def create_kvstore(name, under_launcher):
    """A kvstore object for MXNet's distributed ones (they need DMLC_* variables, set by
    launch_local.py or MXNet's tools/launch.py); local names go to Module.fit as strings."""
    if not name.startswith('dist'):
        return name
    if not under_launcher:
        raise ValueError(f"--kv_store {name} needs a launcher: run under "
                         "tools/launch_local.py (one machine) or MXNet's tools/launch.py "
                         "(several)")
    return mx.kv.create(name)


def workers(kvstore):
    """(this worker's rank, the number of workers) of a kvstore object or name."""
    return getattr(kvstore, 'rank', 0), getattr(kvstore, 'num_workers', 1)


def contexts(gpu, cpu):
    """`gpu` GPU contexts, or without GPUs `cpu` CPU contexts."""
    if gpu:
        if mx.context.num_gpus() < gpu:
            raise ValueError(f"--gpu {gpu} asked for, but this MXNet sees "
                             f"{mx.context.num_gpus()} GPUs (the pip 'mxnet' package is "
                             "CPU-only; install e.g. mxnet-cu112, or drop --gpu)")
        return [mx.gpu(i) for i in range(gpu)]
    return [mx.cpu(i) for i in range(cpu)]


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


def starting_params(settings, module, init_states):
    """Module.fit's arguments to start from a checkpoint's parameters (fine-tuning), or none."""
    if settings.kind != FINETUNE_RUN:
        return {}
    arg_params, aux_params, notes = checkpoint.finetune_params(
        *settings.start_from, settings.earlier, module.symbol,
        input_shapes(settings.config, init_states), settings.config)
    for note in notes:
        logging.info(note)
    return dict(arg_params=arg_params, aux_params=aux_params, allow_missing=True)


def callbacks(settings, module, rank, count, interrupts, epoch_log):
    """Module.fit's callbacks: speed, the interrupt checks, the log, the checkpoints."""
    save = ([checkpoint.saver(settings.prefix, module, settings.config,
                              settings.with_optimizer_states)] if rank == 0 else [])
    speed = mx.callback.Speedometer(settings.config.hp.batch_size,
                                    frequent=min(50, max(1, count // 4)), auto_reset=False)
    return dict(batch_end_callback=[speed, interrupts.check],
                eval_batch_end_callback=interrupts.check,
                epoch_end_callback=[epoch_log.training_done] + save,
                eval_end_callback=epoch_log.validation_done)


def fit(settings, data, kvstore, interrupts, start):
    """Train as the resolved settings say, on the data they were resolved with: one
    Module.fit call, a checkpoint after every epoch. `kvstore` is create_kvstore's."""
    config, hp = settings.config, settings.config.hp
    rank, num_workers = workers(kvstore)
    context = contexts(settings.gpu, settings.cpu)
    if settings.seed is not None:
        seed_everything(settings.seed)
    init_states = lstm.config_init_states(config, hp.batch_size)
    module = build_module(settings, init_states, context)
    start_from = starting_params(settings, module, init_states)
    logging.info(settings.table())
    source = None
    try:
        source, count, held_out = training_source(settings, data, rank, num_workers,
                                                  interrupts)
        shape = (hp.num_columns, hp.column_height)
        train_iter = OCRIter(count, hp.batch_size, init_states, source, config.num_label, shape)
        val_iter = in_order_iter(validation_set(config, data, held_out), hp.batch_size,
                                 init_states, config.num_label, shape)
        train_metric = make_metric(config.loss, [settings.metric], hp.num_steps)
        if rank == 0:
            checkpoint.create_folder(settings.prefix)
        epoch_log = EpochLog(f"{settings.prefix}-log.csv" if rank == 0 else None, start,
                             train_metric, count * hp.batch_size, settings.begin_epoch)
        with warnings.catch_warnings():
            # a resumed Module holds its checkpoint's parameters; fit's init_params says so
            warnings.filterwarnings('ignore', message='Parameters already initialized')
            module.fit(train_data=train_iter, eval_data=val_iter, eval_metric=train_metric,
                       validation_metric=make_metric(config.loss, ['acc', 'lcs'],
                                                     hp.num_steps),
                       kvstore=kvstore, optimizer=hp.optimizer,
                       optimizer_params=optimizer_params(hp, count, settings.begin_epoch),
                       initializer=mx.init.Xavier(**XAVIER), **start_from,
                       begin_epoch=settings.begin_epoch, num_epoch=hp.num_epoch,
                       **callbacks(settings, module, rank, count, interrupts, epoch_log))
        if num_workers > 1:
            logging.info("Worker %d of %d: parameters sha1 %s", rank, num_workers,
                         parameter_digest(module))
    finally:
        if isinstance(source, MPCaptcha):
            source.reset()

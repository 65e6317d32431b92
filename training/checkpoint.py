"""Checkpoints: written whole, resumed, fine-tuned from, and cut into the graph that reads.

A checkpoint is what `Module.save_checkpoint` writes (PREFIX-symbol.json,
PREFIX-NNNN.params, PREFIX-NNNN.states) plus PREFIX-config.json, the settings it was
trained with (model_config.py). Every file is written whole (whole_files.py), parameters
last, so a run that fails or is killed at any moment leaves only whole checkpoints.
"""
import glob
import logging
import os

import mxnet as mx

import lstm
from common.whole_files import remove_stale_temporaries, written_whole
from hyperparameters import XAVIER
from training import model_config


def check_writable(prefix):
    """Raise ValueError unless checkpoints can be written at `prefix`: its folder, or the
    nearest folder above it that exists, must be a writable folder. Creates nothing, so a
    run that stops on bad data leaves no empty folder behind (create_folder does that)."""
    folder = os.path.dirname(os.path.abspath(prefix))
    existing = folder
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"cannot create checkpoint folder {folder!r}: {existing!r} is a file: "
                         "change --prefix")
    if not os.access(existing, os.W_OK):
        raise ValueError(f"checkpoint folder {existing!r} is not writable: change --prefix")


def create_folder(prefix):
    """Create the folder of `prefix` (checked by check_writable) if it is missing, and
    remove the temporaries of runs that were killed while they saved there."""
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    remove_stale_temporaries(f"{glob.escape(prefix)}-*")


def params_path(prefix, epoch):
    return f"{prefix}-{epoch:04d}.params"


def save(prefix, epoch, module, config, with_states=True):
    """The settings, symbol, optimizer states (unless they live on parameter servers) and
    parameters of `module`, each written whole. Raises ValueError if one cannot be."""
    arg_params, aux_params = module.get_params()
    params = {**{f"arg:{k}": v for k, v in arg_params.items()},
              **{f"aux:{k}": v for k, v in aux_params.items()}}
    model_config.save(config, prefix)
    files = {f"{prefix}-symbol.json": module.symbol.save}
    if with_states:
        files[f"{prefix}-{epoch:04d}.states"] = module.save_optimizer_states
    files[params_path(prefix, epoch)] = lambda path: mx.nd.save(path, params)
    for final, write in files.items():  # params last: its presence means the rest is there
        with written_whole(final, (OSError, mx.base.MXNetError)) as temporary:
            write(temporary)
    logging.info('Saved checkpoint to "%s"', params_path(prefix, epoch))


def saver(prefix, module, config, with_states):
    """An epoch_end_callback for Module.fit that saves a checkpoint after every epoch."""
    def save_epoch(epoch, symbol, arg_params, aux_params):
        save(prefix, epoch + 1, module, config, with_states)
    return save_epoch


def load_params(prefix, epoch):
    """PREFIX-NNNN.params -> (symbol, arg_params, aux_params). Raises ValueError."""
    for path in (f"{prefix}-symbol.json", params_path(prefix, epoch)):
        if not os.path.isfile(path):
            raise ValueError(f"checkpoint file {path!r} not found: check the prefix and epoch")
    if uses_warpctc_operator(prefix):
        from common import warpctc  # noqa: F401 -- registers the custom operator the symbol file names
    try:
        return mx.model.load_checkpoint(prefix, epoch)
    except (mx.base.MXNetError, OSError, ValueError):
        raise ValueError(f"checkpoint {prefix}-{epoch:04d} is unreadable (truncated or not an "
                         "MXNet checkpoint): retrain or pick another epoch")


def uses_warpctc_operator(prefix):
    """Whether PREFIX-symbol.json holds warpctc.py's custom operator, which MXNet must have
    registered before it can load the file."""
    with open(f"{prefix}-symbol.json", errors='replace') as f:
        return '"op_type": "warpctc"' in f.read()


def load_module(prefix, epoch, data_names, context, with_states):
    """The Module of a checkpoint, to resume training, with its optimizer states if asked
    and present. Raises ValueError."""
    load_params(prefix, epoch)  # the clear errors for missing or broken files
    states = os.path.isfile(f"{prefix}-{epoch:04d}.states") and with_states
    try:
        return mx.mod.Module.load(prefix, epoch, load_optimizer_states=states,
                                  data_names=data_names, label_names=['label'],
                                  context=context)
    except (mx.base.MXNetError, OSError, ValueError):
        raise ValueError(f"checkpoint {prefix}-{epoch:04d} is unreadable (truncated or not an "
                         "MXNet checkpoint): resume from another epoch")


def finetune_params(prefix, epoch, old_config, symbol, input_shapes, new_config):
    """The parameters of checkpoint PREFIX-NNNN that fit `symbol` (same name and shape),
    -> (arg_params, aux_params, log lines). Rows of the output layer are carried over
    character by character where the alphabet changed; the rest is left for the
    initializer."""
    _, old_args, old_auxs = load_params(prefix, epoch)
    arg_shapes, _, aux_shapes = symbol.infer_shape(**input_shapes)
    wanted = {**dict(zip(symbol.list_arguments(), arg_shapes)),
              **dict(zip(symbol.list_auxiliary_states(), aux_shapes))}
    params = {name: shape for name, shape in wanted.items() if name not in input_shapes}
    loaded = {name: value for name, value in {**old_args, **old_auxs}.items()
              if name in params and value.shape == params[name]}
    notes, whole = [], len(loaded)
    if old_config.charset != new_config.charset:  # the output layer: row by row, below
        loaded.pop('pred_fc_weight', None)
        loaded.pop('pred_fc_bias', None)
        whole = len(loaded)
        notes.append(carry_over_classes(old_args, old_config, new_config, params, loaded))
    notes.insert(0, f"Fine-tuning from {prefix}-{epoch:04d}: {whole} of {len(params)} "
                    f"parameters loaded whole, {len(params) - whole} initialised")
    aux_names = set(symbol.list_auxiliary_states())
    return ({k: v for k, v in loaded.items() if k not in aux_names},
            {k: v for k, v in loaded.items() if k in aux_names}, notes)


def carry_over_classes(old_args, old_config, new_config, params, loaded):
    """Output-layer rows of the blank and of every character both alphabets have, copied
    into freshly initialised ones (into `loaded`) -> a log line."""
    old_weight = old_args.get('pred_fc_weight')
    if old_weight is None or old_weight.shape[1] != params['pred_fc_weight'][1]:
        return "Output layer initialised: the checkpoint's does not fit this network"
    weight = mx.nd.zeros(params['pred_fc_weight'])
    mx.init.Xavier(**XAVIER)(mx.init.InitDesc('pred_fc_weight'), weight)
    bias = mx.nd.zeros(params['pred_fc_bias'])
    old_index, new_index = old_config.alphabet.index, new_config.alphabet.index
    shared = [(0, 0)] + [(old_index[c], new_index[c]) for c in new_config.charset
                         if c in old_index]
    for old_row, new_row in shared:
        weight[new_row] = old_weight[old_row]
        bias[new_row] = old_args['pred_fc_bias'][old_row]
    loaded['pred_fc_weight'], loaded['pred_fc_bias'] = weight, bias
    rest = new_config.alphabet.num_classes - len(shared)
    return (f"Output layer: {len(shared)} of {new_config.alphabet.num_classes} classes carried "
            f"over (the blank and {len(shared) - 1} characters)"
            + (f", {rest} initialised" if rest else ""))


def reading_symbol(prefix, epoch):
    """A checkpoint's graph for reading -> (symbol, arg_params, aux_params, config).

    The training head is cut off at `pred_fc` and a softmax put on top; the LSTM's initial
    states, inputs of the unrolled graph, become zeros made inside the graph, so the image
    `data` (batch, num_columns, column_height) is the only input. Raises ValueError."""
    config = model_config.load(prefix)
    symbol, arg_params, aux_params = load_params(prefix, epoch)
    internals = symbol.get_internals()
    if 'pred_fc_output' not in internals.list_outputs() or 'data' not in symbol.list_arguments():
        raise ValueError(f"{prefix}-symbol.json has no 'data' input and 'pred_fc' layer: not "
                         "an LSTM-OCR model")
    softmax = lstm.add_softmax(internals['pred_fc_output'])
    states = [name for name in softmax.list_arguments()
              if name != 'data' and name not in arg_params]
    widths = state_widths(softmax, states, arg_params, config)
    data = mx.sym.Variable('data')  # replaces the graph's own, so that one node feeds both
    return (softmax(data=data, **{name: lstm.zero_state(data, widths[name]) for name in states}),
            arg_params, aux_params, config or model_config.LEGACY)


def state_widths(symbol, states, arg_params, config):
    """The width of every initial-state input: the settings' LSTM width, or, for a
    checkpoint without settings, what shape inference gives for the cell states (the
    original's l{i}_init_c), which the hidden states l{i}_init_h share."""
    if config is not None:
        return {name: config.hp.num_hidden for name in states}
    shapes = {k: v.shape for k, v in arg_params.items() if k in symbol.list_arguments()}
    arg_shapes, _, _ = symbol.infer_shape_partial(data=(1, 80, 30), **shapes)
    inferred = {name: shape[-1] for name, shape in zip(symbol.list_arguments(), arg_shapes)
                if shape and shape[-1]}
    try:
        return {name: inferred.get(name) or inferred[name.replace('_init_h', '_init_c')]
                for name in states}
    except KeyError as missing:
        raise ValueError(f"cannot tell the width of the LSTM state input {missing}: not an "
                         "LSTM-OCR model")


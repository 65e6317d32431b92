"""The LSTM-OCR network as an MXNet symbol: an LSTM unrolled over the image's pixel columns.

Input `data` is (batch, num_columns, column_height), 80 x 30 in the original: each pixel
column is one LSTM step (an optional convolutional front end pools every `column_pool`
columns into one step, so num_steps = num_columns / column_pool). A stack of LSTM layers
reads the steps left to right (and, bidirectional, right to left); a FullyConnected layer
`pred_fc` turns every step's hidden state into num_classes scores (class 0 = CTC blank,
class i + 1 = the alphabet's i-th character; alphabet.py). Rows of `pred_fc` are
time-major: row t * batch + n is step t of sample n. A head goes on top:

- 'ctc':     `mx.sym.contrib.ctc_loss` for training, plus the softmax (gradient blocked)
             that the accuracy metric reads;
- 'warpctc': the WarpCTC head (warp-ctc's contract; see warpctc.py);
- None:      a plain softmax, for inference.

The unrolled graph keeps the original example's parameter names (`l0_i2h_weight`, ...,
`pred_fc_bias`) and initial-state inputs (`l0_init_c`, `l0_init_h`, ...). The input-to-hidden
product is computed for all steps of a layer in one FullyConnected, which is the same
arithmetic as one product per step with far fewer graph nodes. rnn='fused' replaces the
unrolled layers with one mx.sym.RNN operator (weights in one vector, `lstm_parameters`).
Reshapes use only the shape codes MXNet's ONNX exporter accepts (no -3 merges of two named
axes), so every network this module builds exports (export_onnx.py).
"""
import os

import mxnet as mx

os.environ.setdefault('MXNET_SUBGRAPH_VERBOSE', '0')  # no MKLDNN banner on every bind


def init_states(batch_size, num_lstm_layer, num_hidden, bidirectional=False, rnn='unrolled'):
    """(name, shape) of every initial-state input, in the order the symbol lists them (the
    fused network makes its zero states inside the graph, so it has none)."""
    if rnn == 'fused':
        return []
    directions = ['', '_rev'] if bidirectional else ['']
    return [(f"l{i}{d}_init_{kind}", (batch_size, num_hidden))
            for i in range(num_lstm_layer) for d in directions for kind in ('c', 'h')]


def zero_state(data, width):
    """Zeros of shape (batch, width), made from the image input `data` (batch, ...), so that
    a graph needs no initial-state inputs."""
    first = mx.sym.slice_axis(mx.sym.slice_axis(data, axis=1, begin=0, end=1),
                              axis=2, begin=0, end=1)  # (batch, 1, 1)
    return mx.sym.broadcast_axis(mx.sym.zeros_like(mx.sym.reshape(first, shape=(0, 1))),
                                 axis=1, size=width)


def _lstm_layer(inputs, name, num_steps, num_hidden, reverse=False):
    """One LSTM layer over a time-major (num_steps, batch, features) symbol -> list of h_t."""
    i2h = mx.sym.FullyConnected(inputs, num_hidden=4 * num_hidden, flatten=False,
                                weight=mx.sym.Variable(f"{name}_i2h_weight"),
                                bias=mx.sym.Variable(f"{name}_i2h_bias"), name=f"{name}_i2h")
    i2h_steps = mx.sym.split(i2h, num_outputs=num_steps, axis=0, squeeze_axis=True)
    h2h_weight = mx.sym.Variable(f"{name}_h2h_weight")
    h2h_bias = mx.sym.Variable(f"{name}_h2h_bias")
    c = mx.sym.Variable(f"{name}_init_c")
    h = mx.sym.Variable(f"{name}_init_h")
    hidden = [None] * num_steps
    for t in (reversed(range(num_steps)) if reverse else range(num_steps)):
        h2h = mx.sym.FullyConnected(h, weight=h2h_weight, bias=h2h_bias,
                                    num_hidden=4 * num_hidden, name=f"t{t}_{name}_h2h")
        # split as (batch, 4, hidden), not flat: docs/decisions.md#unrolled-graph-operators
        gates = mx.sym.split(mx.sym.reshape(i2h_steps[t] + h2h, shape=(0, 4, num_hidden)),
                             num_outputs=4, axis=1, squeeze_axis=True)
        # Activation (MKLDNN's kernels), not mx.sym.tanh: docs/decisions.md#unrolled-graph-operators
        in_gate = mx.sym.Activation(gates[0], act_type='sigmoid')
        in_transform = mx.sym.Activation(gates[1], act_type='tanh')
        forget_gate = mx.sym.Activation(gates[2], act_type='sigmoid')
        out_gate = mx.sym.Activation(gates[3], act_type='sigmoid')
        c = forget_gate * c + in_gate * in_transform
        h = out_gate * mx.sym.Activation(c, act_type='tanh')
        hidden[t] = h
    return hidden


def standardize(data):
    """Each image to zero mean and unit variance: captcha colours vary wildly, and LSTMs
    learn far faster from centred inputs. Part of the graph, so inference gets it too."""
    centered = mx.sym.broadcast_sub(data, mx.sym.mean(data, axis=(1, 2), keepdims=True))
    variance = mx.sym.mean(mx.sym.square(centered), axis=(1, 2), keepdims=True)
    return mx.sym.broadcast_div(centered, mx.sym.sqrt(variance + 1e-6))


def conv_front_end(data, channels, column_pool=1, stride=1):
    """(batch, num_columns, column_height) -> time-major (num_columns / column_pool, batch,
    features): 3x3 convolutions, each halving the height; the first also max-pools every
    `column_pool` columns into one step (4 quarters the LSTM's work). With `stride` 2 the
    first convolution reads every second pixel of every second row, so the rest works on
    a quarter of the pixels; it pools column_pool / stride of its columns."""
    # transpose, not swapaxes (the same result): docs/decisions.md#unrolled-graph-operators
    x = mx.sym.expand_dims(mx.sym.transpose(data, axes=(0, 2, 1)), axis=1)  # (N, 1, 30, 80)
    for i, num_filter in enumerate(channels):
        step = stride if i == 0 else 1
        x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), stride=(step, step),
                               num_filter=num_filter, name=f"conv{i}")
        x = mx.sym.Activation(x, act_type='relu')
        pool = (2, column_pool // stride if i == 0 else 1)
        x = mx.sym.Pooling(x, kernel=pool, stride=pool, pool_type='max')
    return mx.sym.reshape(mx.sym.transpose(x, axes=(3, 0, 1, 2)), shape=(0, 0, -1))


def time_steps(num_columns, column_pool=1):
    """LSTM steps for `num_columns` pixel columns; rows of pred_fc are (steps * batch)."""
    if column_pool < 1 or num_columns % column_pool:
        raise ValueError(f"column_pool {column_pool} must be a positive divisor of "
                         f"{num_columns}")
    return num_columns // column_pool


def unrolled_lstm(inputs, num_lstm_layer, num_steps, num_hidden, bidirectional):
    """The LSTM layers step by step, as the original example builds them, over a time-major
    (num_steps, batch, features) symbol -> (num_steps, batch, directions * num_hidden)."""
    for layer in range(num_lstm_layer):
        forward = mx.sym.stack(*_lstm_layer(inputs, f"l{layer}", num_steps, num_hidden), axis=0)
        if bidirectional:
            backward = mx.sym.stack(*_lstm_layer(inputs, f"l{layer}_rev", num_steps, num_hidden,
                                                 reverse=True), axis=0)
            # stacked and flattened, not concat: docs/decisions.md#unrolled-graph-operators
            forward = mx.sym.reshape(mx.sym.stack(forward, backward, axis=2), shape=(0, 0, -1))
        inputs = forward
    return inputs


def fused_lstm(inputs, num_lstm_layer, num_hidden, bidirectional):
    """All LSTM layers as one mx.sym.RNN operator (MKLDNN on CPU, cuDNN on GPU) over a
    time-major (steps, batch, features) symbol -> (steps, batch, directions * num_hidden).
    Its weights are one vector, `lstm_parameters`; its zero initial states are made here.
    Its final states are outputs too (state_outputs), which nothing reads but the ONNX
    exporter requires."""
    directions = 2 if bidirectional else 1
    parameters = mx.sym.Variable('lstm_parameters', init=mx.init.FusedRNN(
        None, num_hidden, num_lstm_layer, 'lstm', bidirectional))
    first_step = mx.sym.slice_axis(mx.sym.slice_axis(inputs, axis=0, begin=0, end=1),
                                   axis=2, begin=0, end=1)  # (1, batch, 1)
    zeros = mx.sym.broadcast_axis(mx.sym.zeros_like(first_step), axis=(0, 2),
                                  size=(num_lstm_layer * directions, num_hidden))
    return mx.sym.RNN(inputs, parameters, zeros, zeros, state_size=num_hidden,
                      num_layers=num_lstm_layer, bidirectional=bidirectional, mode='lstm',
                      state_outputs=True, name='lstm')[0]


def lstm_body(num_lstm_layer, num_columns, num_hidden, num_classes, normalize=False,
              conv_channels=(), bidirectional=False, column_pool=1, rnn='unrolled',
              conv_stride=1):
    """data (batch, num_columns, column_height) -> pred_fc scores (num_steps * batch,
    num_classes)."""
    for name, value in (('column_pool', column_pool), ('conv_stride', conv_stride)):
        if value > 1 and not conv_channels:
            raise ValueError(f"{name} needs the convolutional front end (conv_channels)")
    if column_pool % conv_stride:
        raise ValueError(f"column_pool {column_pool} must be a multiple of conv_stride "
                         f"{conv_stride}")
    data = mx.sym.Variable('data')
    num_steps = time_steps(num_columns, column_pool)
    if normalize:
        data = standardize(data)
    if conv_channels:
        layer_input = conv_front_end(data, conv_channels, column_pool, conv_stride)
    else:
        layer_input = mx.sym.transpose(data, axes=(1, 0, 2))  # time-major
    if rnn == 'fused':
        hidden = fused_lstm(layer_input, num_lstm_layer, num_hidden, bidirectional)
    elif rnn == 'unrolled':
        hidden = unrolled_lstm(layer_input, num_lstm_layer, num_steps, num_hidden,
                               bidirectional)
    else:
        raise ValueError(f"unknown rnn {rnn!r}: use 'unrolled' or 'fused'")
    hidden_all = mx.sym.reshape(hidden, shape=(-3, -1))  # (num_steps * batch, features)
    return mx.sym.FullyConnected(hidden_all, num_hidden=num_classes, name='pred_fc')


def add_ctc_loss(pred, num_steps):
    """MXNet's own CTC loss; the softmax output beside it feeds the metrics, not the gradient."""
    label = mx.sym.Variable('label')
    scores = mx.sym.reshape(pred, shape=(-4, num_steps, -1, 0))  # (steps, batch, classes)
    loss = mx.sym.contrib.ctc_loss(scores, label, blank_label='first')
    softmax = mx.sym.BlockGrad(mx.sym.softmax(pred, axis=-1), name='softmax')
    return mx.sym.Group([softmax, mx.sym.MakeLoss(loss, name='ctc')])


def add_warpctc_loss(pred, num_steps, num_label):
    """warp-ctc's head: MXNet's plugin op where it was compiled in, else warpctc.py's op."""
    from common import (
        warpctc,  # here only: the reading path builds no loss and needs no custom operator
    )
    label = mx.sym.Cast(mx.sym.reshape(mx.sym.Variable('label'), shape=(-1,)), dtype='int32')
    if hasattr(mx.sym, 'WarpCTC'):
        return mx.sym.WarpCTC(data=pred, label=label, label_length=num_label,
                              input_length=num_steps, name='softmax')
    return warpctc.warp_ctc(pred, label, label_length=num_label, input_length=num_steps,
                            name='softmax')


def add_softmax(pred):
    return mx.sym.softmax(pred, axis=-1, name='softmax')


def lstm_unroll(num_lstm_layer, num_columns, num_hidden, num_label, loss_type=None,
                normalize=False, conv_channels=(), bidirectional=False, column_pool=1,
                rnn='unrolled', num_classes=11, conv_stride=1):
    """The whole network with the chosen head: 'ctc', 'warpctc' or None (inference).

    The options are the fast recipe's (hyperparameters.py): per-image standardisation, a
    convolutional front end that may pool columns, LSTM layers that also read right to
    left, and rnn='fused' for one mx.sym.RNN operator instead of the unrolled steps. The
    default of 11 classes is the original's: the blank and 10 digits."""
    pred = lstm_body(num_lstm_layer, num_columns, num_hidden, num_classes, normalize,
                     conv_channels, bidirectional, column_pool, rnn, conv_stride)
    num_steps = time_steps(num_columns, column_pool)
    if loss_type == 'ctc':
        return add_ctc_loss(pred, num_steps)
    if loss_type == 'warpctc':
        return add_warpctc_loss(pred, num_steps, num_label)
    if loss_type is None:
        return add_softmax(pred)
    raise ValueError(f"unknown loss_type {loss_type!r}: use 'ctc', 'warpctc' or None")


def config_network(config, loss_type=None):
    """lstm_unroll with the shape a model's settings give (model_config.ModelConfig)."""
    hp = config.hp
    return lstm_unroll(hp.num_lstm_layer, hp.num_columns, hp.num_hidden, config.num_label,
                       loss_type, hp.normalize, hp.conv_channels, hp.bidirectional,
                       hp.column_pool, hp.rnn, config.alphabet.num_classes, hp.conv_stride)


def config_init_states(config, batch_size):
    """init_states for the network a model's settings describe."""
    hp = config.hp
    return init_states(batch_size, hp.num_lstm_layer, hp.num_hidden, hp.bidirectional, hp.rnn)

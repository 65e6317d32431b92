"""The LSTM-OCR network as an MXNet symbol: an LSTM unrolled over the image's pixel columns.

Input `data` is (batch, 80, 30): 80 time steps, each one 30-pixel column. A stack of LSTM
layers reads the columns left to right; a FullyConnected layer `pred_fc` turns every step's
hidden state into 11 scores (class 0 = CTC blank, class d + 1 = digit d). Rows of `pred_fc`
are time-major: row t * batch + n is step t of sample n. A head goes on top:

- 'ctc':     `mx.sym.contrib.ctc_loss` for training, plus the softmax (gradient blocked)
             that the accuracy metric reads;
- 'warpctc': the WarpCTC head (warp-ctc's contract; see warpctc.py);
- None:      a plain softmax, for inference.

The unrolled graph keeps the original example's parameter names (`l0_i2h_weight`, ...,
`pred_fc_bias`) and initial-state inputs (`l0_init_c`, `l0_init_h`, ...). The input-to-hidden
product is computed for all 80 steps of a layer in one FullyConnected, which is the same
arithmetic as one product per step with far fewer graph nodes.
"""
import os

import mxnet as mx

import warpctc

os.environ.setdefault('MXNET_SUBGRAPH_VERBOSE', '0')  # no MKLDNN banner on every bind

NUM_CLASSES = 11  # CTC blank + 10 digits


def init_states(batch_size, num_lstm_layer, num_hidden, bidirectional=False):
    """(name, shape) of every initial-state input, in the order the symbol lists them."""
    directions = ['', '_rev'] if bidirectional else ['']
    return [(f"l{i}{d}_init_{kind}", (batch_size, num_hidden))
            for i in range(num_lstm_layer) for d in directions for kind in ('c', 'h')]


def _lstm_layer(inputs, name, seq_len, num_hidden, reverse=False):
    """One LSTM layer over a time-major (seq_len, batch, features) symbol -> list of h_t."""
    i2h = mx.sym.FullyConnected(inputs, num_hidden=4 * num_hidden, flatten=False,
                                weight=mx.sym.Variable(f"{name}_i2h_weight"),
                                bias=mx.sym.Variable(f"{name}_i2h_bias"), name=f"{name}_i2h")
    i2h_steps = mx.sym.split(i2h, num_outputs=seq_len, axis=0, squeeze_axis=True)
    h2h_weight = mx.sym.Variable(f"{name}_h2h_weight")
    h2h_bias = mx.sym.Variable(f"{name}_h2h_bias")
    c = mx.sym.Variable(f"{name}_init_c")
    h = mx.sym.Variable(f"{name}_init_h")
    hidden = [None] * seq_len
    for t in (reversed(range(seq_len)) if reverse else range(seq_len)):
        h2h = mx.sym.FullyConnected(h, weight=h2h_weight, bias=h2h_bias,
                                    num_hidden=4 * num_hidden, name=f"t{t}_{name}_h2h")
        gates = mx.sym.split(i2h_steps[t] + h2h, num_outputs=4, axis=1)
        in_gate = mx.sym.sigmoid(gates[0])
        in_transform = mx.sym.tanh(gates[1])
        forget_gate = mx.sym.sigmoid(gates[2])
        out_gate = mx.sym.sigmoid(gates[3])
        c = forget_gate * c + in_gate * in_transform
        h = out_gate * mx.sym.tanh(c)
        hidden[t] = h
    return hidden


def standardize(data):
    """Each image to zero mean and unit variance: captcha colours vary wildly, and LSTMs
    learn far faster from centred inputs. Part of the graph, so inference gets it too."""
    centered = mx.sym.broadcast_sub(data, mx.sym.mean(data, axis=(1, 2), keepdims=True))
    variance = mx.sym.mean(mx.sym.square(centered), axis=(1, 2), keepdims=True)
    return mx.sym.broadcast_div(centered, mx.sym.sqrt(variance + 1e-6))


def conv_front_end(data, channels):
    """(batch, 80, 30) -> time-major (80, batch, features): 3x3 convolutions that pool the
    30-pixel height only, so there are still 80 time steps."""
    x = mx.sym.expand_dims(mx.sym.swapaxes(data, dim1=1, dim2=2), axis=1)  # (N, 1, 30, 80)
    for i, num_filter in enumerate(channels):
        x = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=num_filter,
                               name=f"conv{i}")
        x = mx.sym.Activation(x, act_type='relu')
        x = mx.sym.Pooling(x, kernel=(2, 1), stride=(2, 1), pool_type='max')
    return mx.sym.reshape(mx.sym.transpose(x, axes=(3, 0, 1, 2)), shape=(0, 0, -3))


def lstm_body(num_lstm_layer, seq_len, num_hidden, normalize=False, conv_channels=(),
              bidirectional=False):
    """data (batch, seq_len, features) -> pred_fc scores (seq_len * batch, NUM_CLASSES)."""
    data = mx.sym.Variable('data')
    if normalize:
        data = standardize(data)
    if conv_channels:
        layer_input = conv_front_end(data, conv_channels)
    else:
        layer_input = mx.sym.swapaxes(data, dim1=0, dim2=1)  # time-major
    for layer in range(num_lstm_layer):
        forward = mx.sym.stack(*_lstm_layer(layer_input, f"l{layer}", seq_len, num_hidden),
                               axis=0)
        if bidirectional:
            backward = mx.sym.stack(*_lstm_layer(layer_input, f"l{layer}_rev", seq_len,
                                                 num_hidden, reverse=True), axis=0)
            forward = mx.sym.concat(forward, backward, dim=2)
        layer_input = forward
    hidden_all = mx.sym.reshape(layer_input, shape=(-3, 0))  # (seq_len * batch, features)
    return mx.sym.FullyConnected(hidden_all, num_hidden=NUM_CLASSES, name='pred_fc')


def add_ctc_loss(pred, seq_len):
    """MXNet's own CTC loss; the softmax output beside it feeds the metrics, not the gradient."""
    label = mx.sym.Variable('label')
    scores = mx.sym.reshape(pred, shape=(-4, seq_len, -1, 0))  # (seq_len, batch, classes)
    loss = mx.sym.contrib.ctc_loss(scores, label, blank_label='first')
    softmax = mx.sym.BlockGrad(mx.sym.softmax(pred, axis=-1), name='softmax')
    return mx.sym.Group([softmax, mx.sym.MakeLoss(loss, name='ctc')])


def add_warpctc_loss(pred, seq_len, num_label):
    """warp-ctc's head: MXNet's plugin op where it was compiled in, else warpctc.py's op."""
    label = mx.sym.Cast(mx.sym.reshape(mx.sym.Variable('label'), shape=(-1,)), dtype='int32')
    if hasattr(mx.sym, 'WarpCTC'):
        return mx.sym.WarpCTC(data=pred, label=label, label_length=num_label,
                              input_length=seq_len, name='softmax')
    return warpctc.warp_ctc(pred, label, label_length=num_label, input_length=seq_len,
                            name='softmax')


def add_softmax(pred):
    return mx.sym.softmax(pred, axis=-1, name='softmax')


def lstm_unroll(num_lstm_layer, seq_len, num_hidden, num_label, loss_type=None,
                normalize=False, conv_channels=(), bidirectional=False):
    """The whole network with the chosen head: 'ctc', 'warpctc' or None (inference).

    The options are the fast recipe's (hyperparameters.py): per-image standardisation, a
    convolutional front end, and LSTM layers that also read right to left."""
    pred = lstm_body(num_lstm_layer, seq_len, num_hidden, normalize, conv_channels,
                     bidirectional)
    if loss_type == 'ctc':
        return add_ctc_loss(pred, seq_len)
    if loss_type == 'warpctc':
        return add_warpctc_loss(pred, seq_len, num_label)
    if loss_type is None:
        return add_softmax(pred)
    raise ValueError(f"unknown loss_type {loss_type!r}: use 'ctc', 'warpctc' or None")

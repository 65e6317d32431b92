"""The original example's network, as MXNet 1.9.1's example/ctc/lstm.py builds it.

Two things need that graph exactly as it was, not as lstm.py builds the same network today:
bench.py's baseline (how fast the original computes) and the tests of checkpoints written
the old way (its parameter names, no settings file), which must still read and export.
Per step and layer: one FullyConnected for the input and one for the hidden state, added,
SliceChannel into the four gates, Activation for sigmoid and tanh; SliceChannel splits the
image into columns, Concat gathers the steps, `pred_fc` scores them, and the head is
`contrib.ctc_loss` beside a softmax.
"""
import mxnet as mx

NUM_CLASSES = 11  # the blank and the digits


def sigmoid(x):
    return mx.sym.Activation(x, act_type='sigmoid')


def tanh(x):
    return mx.sym.Activation(x, act_type='tanh')


def lstm_step(x, state, weights, num_hidden, name):
    """One LSTM cell update -> the new (c, h)."""
    c, h = state
    gates = mx.sym.SliceChannel(
        mx.sym.FullyConnected(x, num_hidden=4 * num_hidden, name=f"{name}_i2h",
                              weight=weights['i2h_weight'], bias=weights['i2h_bias'])
        + mx.sym.FullyConnected(h, num_hidden=4 * num_hidden, name=f"{name}_h2h",
                                weight=weights['h2h_weight'], bias=weights['h2h_bias']),
        num_outputs=4)
    c = sigmoid(gates[2]) * c + sigmoid(gates[0]) * tanh(gates[1])
    return c, sigmoid(gates[3]) * tanh(c)


def pred_fc(num_hidden=100, num_lstm_layer=2, num_columns=80):
    """The graph up to `pred_fc`: (num_columns * batch, NUM_CLASSES) scores, step-major."""
    columns = mx.sym.SliceChannel(mx.sym.Variable('data'), num_outputs=num_columns,
                                  squeeze_axis=1)
    states = [(mx.sym.Variable(f"l{i}_init_c"), mx.sym.Variable(f"l{i}_init_h"))
              for i in range(num_lstm_layer)]
    weights = [{kind: mx.sym.Variable(f"l{i}_{kind}")
                for kind in ('i2h_weight', 'i2h_bias', 'h2h_weight', 'h2h_bias')}
               for i in range(num_lstm_layer)]
    outputs = []
    for t in range(num_columns):
        x = columns[t]
        for i in range(num_lstm_layer):
            states[i] = lstm_step(x, states[i], weights[i], num_hidden, f"t{t}_l{i}")
            x = states[i][1]
        outputs.append(x)
    return mx.sym.FullyConnected(mx.sym.Concat(*outputs, dim=0), num_hidden=NUM_CLASSES,
                                 name='pred_fc')


def training_symbol(num_hidden=100, num_lstm_layer=2, num_columns=80):
    """The original's training graph: a softmax for the metrics beside the CTC loss."""
    pred = pred_fc(num_hidden, num_lstm_layer, num_columns)
    loss = mx.sym.contrib.ctc_loss(mx.sym.Reshape(pred, shape=(-4, num_columns, -1, 0)),
                                   mx.sym.Variable('label'))
    return mx.sym.Group([mx.sym.BlockGrad(mx.sym.MakeLoss(mx.sym.SoftmaxActivation(pred))),
                         mx.sym.MakeLoss(loss)])


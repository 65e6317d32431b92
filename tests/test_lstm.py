import mxnet as mx
import numpy as np
import pytest

import lstm
from captcha_generator import TextCaptcha
from ocr_iter import drawn_set, in_order_iter


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm_softmax(data, params, num_layers, num_hidden):
    """Reference forward pass, step by step, with the seed's gate order (i, g, f, o)."""
    batch, num_steps, _ = data.shape
    layer_input = data.transpose(1, 0, 2)
    for l in range(num_layers):
        c = np.zeros((batch, num_hidden))
        h = np.zeros((batch, num_hidden))
        outputs = []
        for t in range(num_steps):
            gates = (layer_input[t] @ params[f'l{l}_i2h_weight'].T + params[f'l{l}_i2h_bias']
                     + h @ params[f'l{l}_h2h_weight'].T + params[f'l{l}_h2h_bias'])
            i, g, f, o = np.split(gates, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            outputs.append(h)
        layer_input = np.stack(outputs)
    scores = layer_input.reshape(num_steps * batch, num_hidden) @ params['pred_fc_weight'].T
    scores += params['pred_fc_bias']
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_parameter_names_match_the_original_example():
    symbol = lstm.lstm_unroll(2, 80, 100, 4, loss_type='ctc')
    params = {n for n in symbol.list_arguments() if n not in ('data', 'label')}
    expected = {f'l{i}_{p}' for i in range(2)
                for p in ('i2h_weight', 'i2h_bias', 'h2h_weight', 'h2h_bias', 'init_c', 'init_h')}
    assert params == expected | {'pred_fc_weight', 'pred_fc_bias'}
    arg_shapes, out_shapes, _ = symbol.infer_shape(
        data=(8, 80, 30), label=(8, 4),
        **{n: s for n, s in lstm.init_states(8, 2, 100)})
    named = dict(zip(symbol.list_arguments(), arg_shapes))
    assert named['l0_i2h_weight'] == (400, 30) and named['l1_i2h_weight'] == (400, 100)
    assert named['pred_fc_weight'] == (11, 100)
    assert symbol.list_outputs() == ['softmax_output', 'ctc_output']
    assert out_shapes == [(640, 11), (8,)]


def test_unrolled_forward_matches_numpy_reference():
    rng = np.random.RandomState(0)
    batch, num_columns, hidden, layers = 3, 80, 8, 2
    symbol = lstm.lstm_unroll(layers, num_columns, hidden, 4)
    states = lstm.init_states(batch, layers, hidden)
    arg_shapes, _, _ = symbol.infer_shape(data=(batch, num_columns, 30), **dict(states))
    params = {n: rng.uniform(-0.5, 0.5, s) for n, s in zip(symbol.list_arguments(), arg_shapes)
              if n != 'data' and 'init' not in n}
    data = rng.uniform(0, 1, (batch, num_columns, 30))
    inputs = {'data': mx.nd.array(data), **{n: mx.nd.zeros(s) for n, s in states},
              **{n: mx.nd.array(v) for n, v in params.items()}}
    out = symbol.bind(mx.cpu(), inputs).forward()[0].asnumpy()
    np.testing.assert_allclose(out, numpy_lstm_softmax(data, params, layers, hidden),
                               rtol=1e-4, atol=1e-5)


def test_unknown_loss_type():
    with pytest.raises(ValueError, match='unknown loss_type'):
        lstm.lstm_unroll(1, 80, 8, 4, loss_type='mse')


@pytest.mark.slow
def test_ctc_loss_falls_over_a_short_real_training_run(font):
    """30 Adam steps of batch 16 on real captchas, through the ctc head's loss output."""
    mx.random.seed(0)
    states = lstm.init_states(16, 1, 32)
    batches = in_order_iter(drawn_set(TextCaptcha([font], seed=4), 96), 16, states, 4, (80, 30))
    symbol = lstm.lstm_unroll(1, 80, 32, 4, loss_type='ctc', normalize=True)
    module = mx.mod.Module(symbol, data_names=['data'] + [n for n, _ in states],
                           label_names=['label'])
    module.bind(batches.provide_data, batches.provide_label)
    module.init_params(mx.init.Xavier(factor_type='in', magnitude=2.34))
    module.init_optimizer(optimizer='adam', optimizer_params={'learning_rate': 0.01})
    losses = []
    for _ in range(5):
        batches.reset()
        for batch in batches:
            module.forward_backward(batch)
            module.update()
            losses.append(module.get_outputs()[1].asnumpy().mean())
    assert np.mean(losses[-5:]) < 0.5 * losses[0], losses


def fused_parameters(params, num_hidden, num_layers=1, bidirectional=False):
    """The unrolled layers' weights (gate order i, g, f, o; layer l's right-to-left half
    named l{l}_rev) packed as mx.sym.RNN's one vector (gate order i, f, c, o; r{l})."""
    unrolled_gate = {'_i': 0, '_f': 2, '_c': 1, '_o': 3}
    cell = mx.rnn.FusedRNNCell(num_hidden, num_layers=num_layers, mode='lstm',
                               bidirectional=bidirectional, prefix='')
    directions = [('', 'l'), ('_rev', 'r')] if bidirectional else [('', 'l')]
    sliced = {}
    for layer in range(num_layers):
        for suffix, fused_name in directions:
            for matrix in ('i2h', 'h2h'):
                for part in ('weight', 'bias'):
                    rows = np.split(params[f'l{layer}{suffix}_{matrix}_{part}'], 4, axis=0)
                    for gate, index in unrolled_gate.items():
                        sliced[f'{fused_name}{layer}_{matrix}{gate}_{part}'] = \
                            mx.nd.array(rows[index])
    return cell.pack_weights(sliced)['parameters']


def random_parameters(symbol, rng, **shapes):
    arg_shapes, _, _ = symbol.infer_shape(**shapes)
    return {n: rng.uniform(-0.5, 0.5, s) for n, s in zip(symbol.list_arguments(), arg_shapes)
            if n not in shapes}


def test_fused_lstm_computes_the_same_function_as_the_unrolled_one():
    rng = np.random.RandomState(1)
    batch, hidden = 3, 8
    unrolled = lstm.lstm_unroll(1, 80, hidden, 4)
    states = lstm.init_states(batch, 1, hidden)
    params = random_parameters(unrolled, rng, data=(batch, 80, 30), **dict(states))
    data = rng.uniform(0, 1, (batch, 80, 30))
    expected = numpy_lstm_softmax(data, params, 1, hidden)

    fused = lstm.lstm_unroll(1, 80, hidden, 4, rnn='fused')
    assert lstm.init_states(batch, 1, hidden, rnn='fused') == []
    fused_args = {'data': mx.nd.array(data), 'lstm_parameters': fused_parameters(params, hidden),
                  'pred_fc_weight': mx.nd.array(params['pred_fc_weight']),
                  'pred_fc_bias': mx.nd.array(params['pred_fc_bias'])}
    output = fused.bind(mx.cpu(), fused_args).forward()[0].asnumpy()
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-5)


def test_bidirectional_conv_network_unrolled_equals_fused():
    """The fast recipe's shape (standardised input, convolutions pooling column pairs, LSTM
    layers reading both ways) computes the same function unrolled and fused."""
    rng = np.random.RandomState(2)
    batch, hidden, layers = 3, 8, 2
    shape = dict(num_lstm_layer=layers, num_columns=80, num_hidden=hidden, num_label=4,
                 normalize=True, conv_channels=(4, 4), bidirectional=True, column_pool=2)
    unrolled = lstm.lstm_unroll(**shape)
    states = lstm.init_states(batch, layers, hidden, bidirectional=True)
    params = random_parameters(unrolled, rng, data=(batch, 80, 30), **dict(states))
    data = mx.nd.array(rng.uniform(0, 1, (batch, 80, 30)))
    unrolled_args = {'data': data, **{n: mx.nd.zeros(s) for n, s in states},
                     **{n: mx.nd.array(v) for n, v in params.items()}}
    expected = unrolled.bind(mx.cpu(), unrolled_args).forward()[0].asnumpy()

    fused = lstm.lstm_unroll(**shape, rnn='fused')
    fused_args = {'data': data, 'lstm_parameters': fused_parameters(params, hidden, layers, True),
                  **{n: mx.nd.array(v) for n, v in params.items()
                     if n.startswith(('conv', 'pred_fc'))}}
    output = fused.bind(mx.cpu(), fused_args).forward()[0].asnumpy()
    np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-5)


def test_column_pool_halves_the_time_steps():
    symbol = lstm.lstm_unroll(1, 80, 16, 4, 'ctc', conv_channels=(8,), column_pool=2,
                              bidirectional=True)
    _, out_shapes, _ = symbol.infer_shape(data=(5, 80, 30), label=(5, 4),
                                          **dict(lstm.init_states(5, 1, 16, True)))
    assert out_shapes[0] == (40 * 5, 11)
    with pytest.raises(ValueError, match='positive divisor of 80'):
        lstm.lstm_unroll(1, 80, 16, 4, conv_channels=(8,), column_pool=3)
    with pytest.raises(ValueError, match='needs the convolutional front end'):
        lstm.lstm_unroll(1, 80, 16, 4, column_pool=2)


def test_a_strided_first_convolution_reads_a_quarter_of_the_pixels_in_the_same_steps():
    plain = lstm.lstm_unroll(1, 160, 16, 4, 'ctc', conv_channels=(8, 8), column_pool=4,
                             bidirectional=True)
    strided = lstm.lstm_unroll(1, 160, 16, 4, 'ctc', conv_channels=(8, 8), column_pool=4,
                               bidirectional=True, conv_stride=2)
    shapes = dict(data=(5, 160, 60), label=(5, 4), **dict(lstm.init_states(5, 1, 16, True)))
    assert strided.infer_shape(**shapes)[1] == plain.infer_shape(**shapes)[1]  # 40 steps
    conv1 = {name: shape for name, shape in zip(strided.get_internals().list_outputs(),
                                                strided.get_internals().infer_shape(**shapes)[1])
             if name == 'conv1_output'}
    assert conv1 == {'conv1_output': (5, 8, 15, 40)}  # 60x160 -> 30x80 -> pooled 15x40
    with pytest.raises(ValueError, match='multiple of conv_stride'):
        lstm.lstm_unroll(1, 160, 16, 4, conv_channels=(8,), column_pool=2, conv_stride=4)


def test_an_alphabets_classes_size_the_output_layer():
    symbol = lstm.lstm_unroll(1, 80, 8, 6, 'ctc', num_classes=37)
    _, out_shapes, _ = symbol.infer_shape(data=(2, 80, 30), label=(2, 6),
                                          **dict(lstm.init_states(2, 1, 8)))
    assert out_shapes[0] == (160, 37)


def test_zero_state_is_zeros_of_the_batch():
    data = mx.sym.Variable('data')
    zeros = lstm.zero_state(data, 7).eval(data=mx.nd.ones((3, 80, 30)))[0]
    assert zeros.shape == (3, 7) and not zeros.asnumpy().any()

"""The WarpCTC head: warp-ctc's contract, with costs and gradients equal to contrib.ctc_loss."""
import mxnet as mx
import numpy as np
import pytest
from test_ctc import LABELS

import lstm
from captcha_generator import TextCaptcha
from common.image_conversion import network_input
from common.warpctc import warp_ctc


def parameter_gradients(loss_type, params, batch):
    symbol = lstm.lstm_unroll(1, 80, 16, 4, loss_type=loss_type)
    states = lstm.init_states(len(LABELS), 1, 16)
    module = mx.mod.Module(symbol, data_names=['data'] + [n for n, _ in states],
                           label_names=['label'])
    module.bind(data_shapes=[('data', (len(LABELS), 80, 30))] + states,
                label_shapes=[('label', LABELS.shape)])
    module.set_params(params, {})
    module.forward_backward(batch)
    return {name: grads[0].asnumpy()
            for name, grads in zip(module._exec_group.param_names, module._exec_group.grad_arrays)}


def test_every_parameter_gradient_equals_the_ctc_head(font):
    views, _ = TextCaptcha([font], seed=2).get_batch(len(LABELS))
    states = lstm.init_states(len(LABELS), 1, 16)
    rng = np.random.RandomState(0)
    symbol = lstm.lstm_unroll(1, 80, 16, 4)
    shapes, _, _ = symbol.infer_shape(data=(len(LABELS), 80, 30), **dict(states))
    params = {n: mx.nd.array(rng.uniform(-0.3, 0.3, s))
              for n, s in zip(symbol.list_arguments(), shapes) if n != 'data' and 'init' not in n}
    batch = mx.io.DataBatch([mx.nd.array(network_input(views))] + [mx.nd.zeros(s) for _, s in states],
                            [mx.nd.array(LABELS)])
    ctc = parameter_gradients('ctc', params, batch)
    warp = parameter_gradients('warpctc', params, batch)
    assert set(ctc) == set(warp) == set(params)
    for name in params:
        scale = np.abs(ctc[name]).max()
        assert np.abs(warp[name] - ctc[name]).max() <= 1e-4 * scale, name


def test_head_outputs_softmax_under_the_metrics_name():
    symbol = lstm.lstm_unroll(1, 80, 8, 4, loss_type='warpctc')
    assert symbol.list_outputs() == ['softmax_output']


def test_error_inside_the_operator_reaches_python_as_mxnet_error(capfd):
    """MXNet prints a custom op's exception and raises MXNetError; the process lives on."""
    data = mx.sym.Variable('data')
    label = mx.sym.Variable('label')
    head = warp_ctc(data, label, label_length=4, input_length=4, name='softmax')
    executor = head.simple_bind(mx.cpu(), data=(4, 11), label=(4,),
                                type_dict={'data': 'float32', 'label': 'int32'})
    executor.arg_dict['label'][:] = mx.nd.array([2, 2, 2, 0])
    executor.forward(is_train=True)
    with pytest.raises(mx.base.MXNetError):
        executor.backward()
        mx.nd.waitall()
    assert 'CTC label of sample 0 needs 5 time steps' in capfd.readouterr().out

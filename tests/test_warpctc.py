"""The WarpCTC head: warp-ctc's contract, with costs and gradients equal to contrib.ctc_loss."""
import itertools

import mxnet as mx
import numpy as np
import pytest

import lstm
from captcha_generator import DigitCaptcha
from warpctc import ctc_cost_and_grad, ctc_log_likelihood, log_softmax, warp_ctc

LABELS = np.array([[1, 1, 2, 0],    # a repeat: needs a blank between the 1s
                   [3, 4, 5, 6],    # four labels
                   [10, 9, 8, 0],   # three labels
                   [7, 7, 7, 7]], np.float32)


def mxnet_ctc(activations, labels):
    """contrib.ctc_loss cost and its gradient with respect to the activations (autograd)."""
    data = mx.nd.array(activations)
    data.attach_grad()
    with mx.autograd.record():
        cost = mx.nd.contrib.ctc_loss(data, mx.nd.array(labels), blank_label='first')
    cost.backward()
    return cost.asnumpy(), data.grad.asnumpy()


def brute_force_cost(activations, label):
    """-log of the summed probability of every path that collapses to `label`."""
    log_probs = log_softmax(activations)
    T, alphabet = log_probs.shape
    total = 0.0
    for path in itertools.product(range(alphabet), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == label:
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize('seed', [0, 1])
def test_cost_and_gradient_equal_contrib_ctc_loss(seed):
    activations = np.random.RandomState(seed).normal(0, 2, (80, 4, 11)).astype(np.float32)
    cost, grad = ctc_cost_and_grad(activations, LABELS)
    expected_cost, expected_grad = mxnet_ctc(activations, LABELS)
    np.testing.assert_allclose(cost, expected_cost, rtol=1e-4)
    # both accumulate in float32, in different orders
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize('label', [[1], [1, 2], [1, 1], [2, 1, 2]])
def test_tiny_cost_equals_sum_over_every_alignment(label):
    activations = np.random.RandomState(len(label)).normal(0, 1, (5, 1, 3))
    cost, _ = ctc_cost_and_grad(activations, np.array([label + [0]]))
    assert cost[0] == pytest.approx(brute_force_cost(activations[:, 0], label), rel=1e-9)


def test_likelihoods_of_every_labelling_sum_to_one():
    # 4 steps, labels 1 and 2: every sequence that fits in 4 steps (a repeat needs a blank
    # between), 0-padded to length 4
    labellings = [list(seq) + [0] * (4 - n) for n in range(5)
                  for seq in itertools.product([1, 2], repeat=n)
                  if n + sum(a == b for a, b in zip(seq, seq[1:])) <= 4]
    activations = np.random.RandomState(5).normal(0, 1, (4, 1, 3))
    log_likelihood = ctc_log_likelihood(np.repeat(activations, len(labellings), axis=1),
                                        np.array(labellings))
    assert np.exp(log_likelihood).sum() == pytest.approx(1.0, rel=1e-9)
    cost, _ = ctc_cost_and_grad(activations, np.array([[2, 1, 0, 0]]))
    assert -cost[0] == pytest.approx(log_likelihood[labellings.index([2, 1, 0, 0])])


def test_gradient_matches_finite_differences():
    rng = np.random.RandomState(3)
    activations = rng.normal(0, 1, (6, 1, 4))
    label = np.array([[1, 1, 3]])
    _, grad = ctc_cost_and_grad(activations, label)
    eps = 1e-6
    for index in [(0, 0, 0), (2, 0, 1), (5, 0, 3), (3, 0, 2)]:
        bumped = activations.copy()
        bumped[index] += eps
        numeric = (ctc_cost_and_grad(bumped, label)[0][0]
                   - ctc_cost_and_grad(activations, label)[0][0]) / eps
        assert grad[index] == pytest.approx(numeric, abs=1e-4)


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
    images, _ = DigitCaptcha([font], seed=2).get_batch(len(LABELS))
    states = lstm.init_states(len(LABELS), 1, 16)
    rng = np.random.RandomState(0)
    symbol = lstm.lstm_unroll(1, 80, 16, 4)
    shapes, _, _ = symbol.infer_shape(data=(len(LABELS), 80, 30), **dict(states))
    params = {n: mx.nd.array(rng.uniform(-0.3, 0.3, s))
              for n, s in zip(symbol.list_arguments(), shapes) if n != 'data' and 'init' not in n}
    batch = mx.io.DataBatch([mx.nd.array(images)] + [mx.nd.zeros(s) for _, s in states],
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


def test_unalignable_label_is_a_clear_error():
    with pytest.raises(ValueError, match='needs 5 time steps .* but the input has 4'):
        ctc_cost_and_grad(np.zeros((4, 1, 11)), np.array([[2, 2, 2, 0]]))


def test_label_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match='label value 11 is outside 0..10'):
        ctc_cost_and_grad(np.zeros((80, 1, 11)), np.array([[11, 1, 0, 0]]))


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

"""CTC in numpy (ctc.py): likelihood and gradient against brute force and MXNet's own
ctc_loss, and greedy and beam-search decoding. The module imports no mxnet; the checks
against contrib.ctc_loss do."""
import itertools
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from common import ctc
from conftest import REPO

LABELS = np.array([[1, 1, 2, 0],    # a repeat: needs a blank between the 1s
                   [3, 4, 5, 6],    # four labels
                   [10, 9, 8, 0],   # three labels
                   [7, 7, 7, 7]], np.float32)


def test_ctc_imports_no_mxnet():
    code = "import sys, ctc_metrics; from common import ctc; assert 'mxnet' not in sys.modules"
    assert subprocess.run([sys.executable, '-c', code], cwd=REPO).returncode == 0


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
    log_probs = ctc.log_softmax(activations)
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
    cost, grad = ctc.cost_and_grad(activations, LABELS)
    expected_cost, expected_grad = mxnet_ctc(activations, LABELS)
    np.testing.assert_allclose(cost, expected_cost, rtol=1e-4)
    # both accumulate in float32, in different orders
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize('label', [[1], [1, 2], [1, 1], [2, 1, 2]])
def test_tiny_cost_equals_sum_over_every_alignment(label):
    activations = np.random.RandomState(len(label)).normal(0, 1, (5, 1, 3))
    cost, _ = ctc.cost_and_grad(activations, np.array([label + [0]]))
    assert cost[0] == pytest.approx(brute_force_cost(activations[:, 0], label), rel=1e-9)


def test_likelihoods_of_every_labelling_sum_to_one():
    # 4 steps, labels 1 and 2: every sequence that fits in 4 steps (a repeat needs a blank
    # between), 0-padded to length 4
    labellings = [list(seq) + [0] * (4 - n) for n in range(5)
                  for seq in itertools.product([1, 2], repeat=n)
                  if n + sum(a == b for a, b in zip(seq, seq[1:])) <= 4]
    activations = np.random.RandomState(5).normal(0, 1, (4, 1, 3))
    log_likelihood = ctc.log_likelihood(np.repeat(activations, len(labellings), axis=1),
                                        np.array(labellings))
    assert np.exp(log_likelihood).sum() == pytest.approx(1.0, rel=1e-9)
    cost, _ = ctc.cost_and_grad(activations, np.array([[2, 1, 0, 0]]))
    assert -cost[0] == pytest.approx(log_likelihood[labellings.index([2, 1, 0, 0])])


def test_gradient_matches_finite_differences():
    rng = np.random.RandomState(3)
    activations = rng.normal(0, 1, (6, 1, 4))
    label = np.array([[1, 1, 3]])
    _, grad = ctc.cost_and_grad(activations, label)
    eps = 1e-6
    for index in [(0, 0, 0), (2, 0, 1), (5, 0, 3), (3, 0, 2)]:
        bumped = activations.copy()
        bumped[index] += eps
        numeric = (ctc.cost_and_grad(bumped, label)[0][0]
                   - ctc.cost_and_grad(activations, label)[0][0]) / eps
        assert grad[index] == pytest.approx(numeric, abs=1e-4)


def test_unalignable_label_is_a_clear_error():
    with pytest.raises(ValueError, match='needs 5 time steps .* but the input has 4'):
        ctc.cost_and_grad(np.zeros((4, 1, 11)), np.array([[2, 2, 2, 0]]))


def test_label_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match='label value 11 is outside 0..10'):
        ctc.cost_and_grad(np.zeros((80, 1, 11)), np.array([[11, 1, 0, 0]]))


@pytest.mark.parametrize('steps,decoded', [
    ([0, 1, 1, 0, 1, 2, 2, 0], [1, 1, 2]),  # a blank separates a repeated label
    ([3, 3, 3, 4], [3, 4]),
    ([0, 0, 0], []),
    ([5], [5]),
])
def test_collapse_merges_repeats_then_drops_blanks(steps, decoded):
    assert ctc.collapse(steps) == decoded


def test_greedy_decode_is_time_major():
    probs = np.eye(11)[np.array([[1, 1, 0, 2], [0, 3, 0, 3]]).T]  # (steps, batch, classes)
    assert ctc.greedy_decode(probs) == [[1, 2], [3, 3]]


def test_decode_gives_the_probability_of_what_it_read():
    probs = np.array([[[0.9, 0.1]], [[0.2, 0.8]]])  # 2 steps, 1 sample, blank and one label
    [(classes, confidence)] = ctc.decode(probs)
    assert classes == [1]  # paths 01, 10, 11 spell [1]
    assert confidence == pytest.approx(0.9 * 0.8 + 0.1 * 0.2 + 0.1 * 0.8)


def random_log_probs(rng, steps, classes, sharpness):
    scores = rng.normal(size=(steps, classes)) * sharpness
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def most_probable_labelling(log_probs):
    """By brute force: sum every path's probability into the labelling it spells."""
    steps, classes = log_probs.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=steps):
        spelled = tuple(ctc.collapse(path))
        totals[spelled] = np.logaddexp(totals.get(spelled, -np.inf),
                                       log_probs[np.arange(steps), path].sum())
    return list(max(totals, key=totals.get))


def test_wide_beam_finds_the_most_probable_labelling():
    rng = np.random.default_rng(0)
    for _ in range(50):
        log_probs = random_log_probs(rng, steps=5, classes=3, sharpness=2)
        assert ctc.beam_decode(log_probs, beam_width=40) == most_probable_labelling(log_probs)


def test_beam_search_beats_greedy_where_paths_split_the_mass():
    # Best path: blank, blank (0.36) -> nothing. But [1] is spelled by three paths (0.64).
    probs = np.array([[0.6, 0.4], [0.6, 0.4]])
    assert ctc.collapse(probs.argmax(axis=1)) == []
    assert ctc.beam_decode(np.log(probs), beam_width=3) == [1]


def test_beam_of_one_agrees_with_greedy_on_confident_steps():
    rng = np.random.default_rng(1)
    for _ in range(100):
        scores = rng.normal(size=(40, 11))
        scores[np.arange(40), rng.integers(0, 11, 40)] += 8  # one class clearly best per step
        log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        assert ctc.beam_decode(log_probs, 1) == ctc.collapse(log_probs.argmax(axis=1))

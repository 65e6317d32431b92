import itertools

import numpy as np
import pytest

from ctc_metrics import (CtcMetrics, beam_decode, greedy_decode, longest_common_subsequence,
                         strip_padding)


@pytest.mark.parametrize('steps,decoded', [
    ([0, 1, 1, 0, 1, 2, 2, 0], [1, 1, 2]),  # a blank separates a repeated label
    ([3, 3, 3, 4], [3, 4]),
    ([0, 0, 0], []),
    ([5], [5]),
])
def test_ctc_label_merges_repeats_then_drops_blanks(steps, decoded):
    assert CtcMetrics.ctc_label(steps) == decoded


@pytest.mark.parametrize('a,b,length', [
    ('ABCBDAB', 'BDCABA', 4),
    ('AGGTAB', 'GXTXAYB', 4),
    ([1, 2, 3], [1, 2, 3], 3),
    ([1, 2, 3], [3, 2, 1], 1),
    ([], [1, 2], 0),
    ([1, 1, 1], [1], 1),
])
def test_longest_common_subsequence(a, b, length):
    assert longest_common_subsequence(a, b) == length
    assert longest_common_subsequence(b, a) == length


def one_hot_prediction(step_classes, num_classes=11):
    """(batch, seq_len) class ids -> time-major softmax-like array (seq_len * batch, classes)."""
    steps = np.asarray(step_classes).T  # (seq_len, batch)
    return np.eye(num_classes, dtype=np.float32)[steps.reshape(-1)]


def test_greedy_decode_is_time_major():
    pred = one_hot_prediction([[1, 1, 0, 2], [0, 3, 0, 3]])
    assert greedy_decode(pred, seq_len=4) == [[1, 2], [3, 3]]


def test_accuracy_and_lcs_accuracy():
    label = np.array([[1, 2, 3, 0], [4, 5, 6, 7]], np.float32)
    pred = one_hot_prediction([[1, 0, 2, 3, 3, 0], [4, 5, 0, 6, 0, 0]])
    metrics = CtcMetrics(seq_len=6)
    assert metrics.accuracy(label, pred) == 0.5
    assert metrics.accuracy_lcs(label, pred) == pytest.approx((3 / 3 + 3 / 4) / 2)


def test_strip_padding():
    assert strip_padding([1, 9, 10, 0]) == [1, 9, 10]
    assert strip_padding([2, 3, 4, 5]) == [2, 3, 4, 5]


def random_log_probs(rng, steps, classes, sharpness):
    scores = rng.normal(size=(steps, classes)) * sharpness
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def most_probable_labelling(log_probs):
    """By brute force: sum every path's probability into the labelling it spells."""
    steps, classes = log_probs.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=steps):
        spelled = tuple(CtcMetrics.ctc_label(path))
        totals[spelled] = np.logaddexp(totals.get(spelled, -np.inf),
                                       log_probs[np.arange(steps), path].sum())
    return list(max(totals, key=totals.get))


def test_wide_beam_finds_the_most_probable_labelling():
    rng = np.random.default_rng(0)
    for _ in range(50):
        log_probs = random_log_probs(rng, steps=5, classes=3, sharpness=2)
        assert beam_decode(log_probs, beam_width=40) == most_probable_labelling(log_probs)


def test_beam_search_beats_greedy_where_paths_split_the_mass():
    # Best path: blank, blank (0.36) -> nothing. But [1] is spelled by three paths (0.64).
    probs = np.array([[0.6, 0.4], [0.6, 0.4]])
    assert CtcMetrics.ctc_label(probs.argmax(axis=1)) == []
    assert beam_decode(np.log(probs), beam_width=3) == [1]


def test_beam_of_one_agrees_with_greedy_on_confident_steps():
    rng = np.random.default_rng(1)
    for _ in range(100):
        scores = rng.normal(size=(40, 11))
        scores[np.arange(40), rng.integers(0, 11, 40)] += 8  # one class clearly best per step
        log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        assert beam_decode(log_probs, 1) == CtcMetrics.ctc_label(log_probs.argmax(axis=1))

import numpy as np
import pytest

from ctc_metrics import CtcMetrics, greedy_decode, longest_common_subsequence, strip_padding


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

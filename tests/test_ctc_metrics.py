"""Accuracy measures of CTC predictions (ctc_metrics.py), as training's metrics call them."""
import numpy as np
import pytest

from ctc_metrics import CtcMetrics, longest_common_subsequence, strip_padding


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


def test_accuracy_and_lcs_accuracy_count_captchas_not_padding():
    label = np.array([[1, 2, 3, 0], [4, 5, 6, 7], [0, 0, 0, 0]], np.float32)  # a padding row
    pred = one_hot_prediction([[1, 0, 2, 3, 3, 0], [4, 5, 0, 6, 0, 0], [1, 0, 0, 0, 0, 0]])
    metrics = CtcMetrics(num_steps=6)
    assert metrics.accuracy(label, pred) == (1, 2)
    lcs, count = metrics.accuracy_lcs(label, pred)
    assert count == 2 and lcs == pytest.approx(3 / 3 + 3 / 4)
    assert CtcMetrics.loss(label, np.array([1.0, 2.0, 50.0])) == (3.0, 2)


def test_strip_padding():
    assert strip_padding([1, 9, 10, 0]) == [1, 9, 10]
    assert strip_padding([2, 3, 4, 5]) == [2, 3, 4, 5]



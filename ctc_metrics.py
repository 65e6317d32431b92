"""Accuracy of CTC predictions: exact match and longest-common-subsequence (LCS) ratio.

Training's metrics read the softmax output (num_steps * batch, num_classes), time-major,
decode it greedily (ctc.py) and compare it with the label rows. A label row of only 0 is
padding that filled up a last, partial batch: it is not scored. Inference's `--eval` uses
the same measures on (truth, prediction) pairs.
"""
import numpy as np

from common.ctc import greedy_decode


def longest_common_subsequence(a, b):
    """Length of the longest common subsequence of two sequences (dynamic programming)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def exact_match(pairs):
    """Fraction of (truth, prediction) pairs that are equal."""
    return sum(truth == prediction for truth, prediction in pairs) / len(pairs)


def lcs_accuracy(pairs):
    """Mean over (truth, prediction) pairs of LCS(truth, prediction) / len(truth)."""
    return sum(longest_common_subsequence(truth, prediction) / len(truth)
               for truth, prediction in pairs) / len(pairs)


def strip_padding(label):
    """Label row [1, 9, 10, 0] -> [1, 9, 10]: class ids up to the first 0 (padding)."""
    label = [int(x) for x in label]
    return label[:label.index(0)] if 0 in label else label


class CtcMetrics:
    """Accuracy measures over a batch, in the form `mx.metric.CustomMetric` calls them:
    feval(label, pred) -> (sum, count), so that padding rows count for nothing."""

    def __init__(self, num_steps):
        self.num_steps = num_steps

    def _decoded_pairs(self, label, pred):
        probs = pred.reshape(self.num_steps, len(label), pred.shape[-1])
        return [(strip_padding(row), decoded)
                for row, decoded in zip(label, greedy_decode(probs)) if row.any()]

    def accuracy(self, label, pred):
        """Captchas whose decoded sequence equals the label exactly."""
        pairs = self._decoded_pairs(label, pred)
        return sum(truth == prediction for truth, prediction in pairs), len(pairs)

    def accuracy_lcs(self, label, pred):
        """Sum of LCS(prediction, label) / len(label) over the captchas."""
        pairs = self._decoded_pairs(label, pred)
        return (sum(longest_common_subsequence(t, p) / len(t) for t, p in pairs),
                len(pairs))

    @staticmethod
    def loss(label, loss):
        """Sum of the CTC loss output (batch,) over the captchas."""
        scored = np.asarray(label).any(axis=1)
        return float(np.asarray(loss)[scored].sum()), int(scored.sum())

"""Decoding and accuracy of CTC predictions: greedy and prefix beam search, exact match and
LCS ratio.

The network emits, for every time step, a distribution over 11 classes (0 = blank, d + 1 =
digit d). Greedy CTC decoding takes the best class per step, merges repeats and drops
blanks; "1 1 0 1 2" reads as [1, 1, 2]. Prefix beam search instead keeps the `beam_width`
most probable label sequences, each summed over all the paths that spell it. This module is
the one place decoding is written; training's metrics and inference import it.
"""
import math
from collections import defaultdict

import numpy as np


def greedy_decode(pred, seq_len):
    """Softmax output (seq_len * batch, classes), time-major -> list of class-id lists."""
    best = pred.reshape(seq_len, -1, pred.shape[-1]).argmax(axis=2).T  # (batch, seq_len)
    return [CtcMetrics.ctc_label(row) for row in best]


def log_add(a, b):
    """log(exp(a) + exp(b)) of two floats (np.logaddexp is slow on scalars)."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def beam_decode(log_probs, beam_width):
    """Prefix beam search over one sample's (steps, classes) log-probabilities -> the class
    ids of the most probable label sequence it finds (blank = 0)."""
    # prefix -> [log p(paths spelling it that end in a blank), ... that end in its last label]
    beams = {(): [0.0, -math.inf]}
    for step in log_probs:
        candidates = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (blank_end, label_end) in beams.items():
            total = log_add(blank_end, label_end)
            stay = candidates[prefix]
            stay[0] = log_add(stay[0], total + float(step[0]))
            extend = total + step[1:]  # every label at once
            if prefix:
                last = prefix[-1]
                stay[1] = log_add(stay[1], label_end + float(step[last]))  # a repeat merges
                extend[last - 1] = blank_end + step[last]  # unless a blank came between
            # only the best extensions, or ones that merge into a kept prefix, can survive
            kept = set(np.argsort(extend)[-beam_width:]) | {
                p[-1] - 1 for p in beams if len(p) == len(prefix) + 1 and p[:-1] == prefix}
            for c in kept:
                longer = candidates[prefix + (int(c) + 1,)]
                longer[1] = log_add(longer[1], float(extend[c]))
        ranked = sorted(candidates.items(), key=lambda item: -log_add(*item[1]))
        beams = dict(ranked[:beam_width])
    return list(max(beams, key=lambda prefix: log_add(*beams[prefix])))


def strip_padding(label):
    """Label row [1, 9, 10, 0] -> [1, 9, 10]: class ids up to the first 0 (padding)."""
    label = [int(x) for x in label]
    return label[:label.index(0)] if 0 in label else label


def longest_common_subsequence(a, b):
    """Length of the longest common subsequence of two sequences (dynamic programming)."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


class CtcMetrics:
    """Accuracy measures over a batch, in the form `mx.metric.CustomMetric` calls them."""

    def __init__(self, seq_len):
        self.seq_len = seq_len

    @staticmethod
    def ctc_label(p):
        """Best class per time step -> decoded class ids: merge repeats, then drop blanks."""
        p = np.asarray(p)
        keep = (p != 0) & np.concatenate(([True], p[1:] != p[:-1]))
        return [int(x) for x in p[keep]]

    def _decoded_pairs(self, label, pred):
        return [(strip_padding(row), decoded)
                for row, decoded in zip(label, greedy_decode(pred, self.seq_len))]

    def accuracy(self, label, pred):
        """Fraction of the batch whose decoded sequence equals the label exactly."""
        return exact_match(self._decoded_pairs(label, pred))

    def accuracy_lcs(self, label, pred):
        """Mean over the batch of LCS(prediction, label) / len(label)."""
        return lcs_accuracy(self._decoded_pairs(label, pred))


def exact_match(pairs):
    """Fraction of (truth, prediction) pairs that are equal."""
    return sum(truth == prediction for truth, prediction in pairs) / len(pairs)


def lcs_accuracy(pairs):
    """Mean over (truth, prediction) pairs of LCS(truth, prediction) / len(truth)."""
    return sum(longest_common_subsequence(truth, prediction) / len(truth)
               for truth, prediction in pairs) / len(pairs)

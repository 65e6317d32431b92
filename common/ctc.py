"""Connectionist Temporal Classification in numpy: the forward-backward recursion, the
likelihood of a label, its gradient, and greedy and prefix-beam-search decoding.

Arrays are time-major, as the network emits them: activations or log-probabilities of
shape (num_steps, batch, num_classes), class 0 = blank. Labels are (batch, L) class ids
padded with 0. This module is the one place CTC is written: the WarpCTC operator's gradient
(warpctc.py), the training metrics (ctc_metrics.py) and both readers (MXNet and ONNX
Runtime) import it. No mxnet here.
"""
import math
from collections import defaultdict

import numpy as np

BLANK = 0


def log_softmax(activations):
    shifted = activations - activations.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def extend_labels(labels, num_classes):
    """(batch, L) labels padded with 0 -> blank-interleaved (batch, 2L + 1) and real lengths.

    Raises ValueError for a label value outside 1..num_classes-1."""
    labels = np.asarray(labels, dtype=np.int64)
    bad = (labels < 0) | (labels >= num_classes)
    if bad.any():
        raise ValueError(f"CTC label value {labels[bad][0]} is outside 0..{num_classes - 1} "
                         f"(0 = blank/padding, 1..{num_classes - 1} = classes)")
    # zeros are padding: move the real labels to the front of each row, as warp-ctc sees them
    order = np.argsort(labels == BLANK, axis=1, kind='stable')
    packed = np.take_along_axis(labels, order, axis=1)
    lengths = (labels != BLANK).sum(axis=1)
    extended = np.zeros((labels.shape[0], 2 * labels.shape[1] + 1), dtype=np.int64)
    extended[:, 1::2] = packed
    return extended, lengths


class Lattice:
    """The forward (alpha) recursion of one batch in log space, and what the likelihood and
    the gradient both need from it. Raises ValueError for a label that cannot be aligned to
    the steps (too long once repeats are separated by blanks)."""

    def __init__(self, activations, labels):
        num_steps, batch, num_classes = activations.shape
        self.extended, self.lengths = extend_labels(labels, num_classes)
        repeats = ((self.extended[:, 3::2] == self.extended[:, 1:-2:2])
                   & (self.extended[:, 3::2] != BLANK))
        needed = self.lengths + repeats.sum(axis=1)
        if (needed > num_steps).any():
            n = int(np.argmax(needed > num_steps))
            raise ValueError(f"CTC label of sample {n} needs {needed[n]} time steps (its "
                             f"{self.lengths[n]} labels plus blanks between repeats) but the "
                             f"input has {num_steps}")
        self.log_probs = log_softmax(activations)  # float32 from MXNet, as ctc_loss computes
        self.emit = self.log_probs[:, np.arange(batch)[:, None], self.extended]  # log y_t(l'_s)
        self.can_skip = np.zeros(self.extended.shape, dtype=bool)
        self.can_skip[:, 2:] = ((self.extended[:, 2:] != BLANK)
                                & (self.extended[:, 2:] != self.extended[:, :-2]))
        self.last = (2 * self.lengths)[:, None]
        self.second_last = (2 * self.lengths - 1)[:, None]
        self.alpha = self._forward()
        final = self.alpha[-1]
        end_on_label = np.take_along_axis(final, np.maximum(self.second_last, 0), axis=1)[:, 0]
        self.log_likelihood = np.logaddexp(np.take_along_axis(final, self.last, axis=1)[:, 0],
                                           np.where(self.lengths > 0, end_on_label, -np.inf))

    def _forward(self):
        alpha = np.full(self.emit.shape, -np.inf, dtype=self.log_probs.dtype)
        alpha[0, :, :2] = self.emit[0, :, :2]
        for t in range(1, len(alpha)):
            prev, now = alpha[t - 1], alpha[t]
            now[:] = prev
            now[:, 1:] = np.logaddexp(prev[:, 1:], prev[:, :-1])
            now[:, 2:] = np.where(self.can_skip[:, 2:], np.logaddexp(now[:, 2:], prev[:, :-2]),
                                  now[:, 2:])
            now += self.emit[t]
        return alpha

    def backward(self):
        """The beta recursion: log p(rest of the label | position s at step t)."""
        emit = self.emit
        beta = np.full(emit.shape, -np.inf, dtype=self.log_probs.dtype)
        positions = np.arange(emit.shape[2])[None, :]
        ends = (positions == self.last) | (positions == self.second_last)
        beta[-1] = np.where(ends, emit[-1], -np.inf)
        for t in range(len(beta) - 2, -1, -1):
            nxt, now = beta[t + 1], beta[t]
            now[:] = nxt
            now[:, :-1] = np.logaddexp(nxt[:, :-1], nxt[:, 1:])
            # s -> s + 2 is allowed exactly where alpha may skip into s + 2
            now[:, :-2] = np.where(self.can_skip[:, 2:], np.logaddexp(now[:, :-2], nxt[:, 2:]),
                                   now[:, :-2])
            now += emit[t]
        return beta


def log_likelihood(activations, labels):
    """log p(labels | activations) per sample, summed over every alignment.

    activations: (num_steps, batch, num_classes) scores before softmax (log-probabilities
    work too); labels: (batch, L), 0-padded."""
    return Lattice(activations, labels).log_likelihood


def cost_and_grad(activations, labels):
    """CTC cost per sample and its gradient with respect to the activations, as warp-ctc
    computes them -> (cost (batch,), grad (num_steps, batch, num_classes))."""
    lattice = Lattice(activations, labels)
    beta = lattice.backward()
    # occupancy of each extended position: alpha_t(s) beta_t(s) / (y_t(l'_s) p(l|x))
    with np.errstate(invalid='ignore'):
        occupancy = np.exp(lattice.alpha + beta - lattice.emit
                           - lattice.log_likelihood[None, :, None])
    occupancy = np.nan_to_num(occupancy)
    num_classes = activations.shape[2]
    one_hot = np.eye(num_classes, dtype=lattice.log_probs.dtype)[lattice.extended]
    grad = np.exp(lattice.log_probs) - np.einsum('tns,nsc->tnc', occupancy, one_hot)
    return -lattice.log_likelihood, grad


def collapse(best):
    """Best class per step -> decoded class ids: merge repeats, then drop blanks.
    [0, 1, 1, 0, 1, 2] -> [1, 1, 2]."""
    best = np.asarray(best)
    keep = (best != BLANK) & np.concatenate(([True], best[1:] != best[:-1]))
    return [int(x) for x in best[keep]]


def greedy_decode(probs):
    """(num_steps, batch, num_classes) probabilities -> a list of class-id lists."""
    return [collapse(row) for row in probs.argmax(axis=2).T]


def log_add(a, b):
    """log(exp(a) + exp(b)) of two floats (np.logaddexp is slow on scalars)."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def beam_decode(log_probs, beam_width):
    """Prefix beam search over one sample's (num_steps, num_classes) log-probabilities -> the
    class ids of the most probable label sequence it finds."""
    # prefix -> [log p(paths spelling it that end in a blank), ... that end in its last label]
    beams = {(): [0.0, -math.inf]}
    for step in log_probs:
        candidates = defaultdict(lambda: [-math.inf, -math.inf])
        for prefix, (blank_end, label_end) in beams.items():
            total = log_add(blank_end, label_end)
            stay = candidates[prefix]
            stay[0] = log_add(stay[0], total + float(step[BLANK]))
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


def decode(probs, beam_width=0):
    """(num_steps, batch, num_classes) probabilities -> [(class ids, confidence)]: greedy,
    or prefix beam search with beam_width > 0. The confidence is the probability the
    network gives the decoded sequence, summed over all its alignments."""
    log_probs = np.log(np.maximum(probs, 1e-30)).astype(np.float64)
    if beam_width:
        decoded = [beam_decode(log_probs[:, n], beam_width) for n in range(probs.shape[1])]
    else:
        decoded = greedy_decode(probs)
    padded = np.zeros((len(decoded), max(map(len, decoded), default=0)), dtype=np.int64)
    for row, classes in zip(padded, decoded):
        row[:len(classes)] = classes
    confidence = np.exp(log_likelihood(log_probs, padded))
    return [(classes, float(p)) for classes, p in zip(decoded, confidence)]

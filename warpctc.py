"""A WarpCTC head for MXNet builds without the warp-ctc plugin (that is, every pip build).

`mx.sym.WarpCTC` exists only when MXNet is compiled with Baidu's warp-ctc. This module
registers a custom operator with the plugin's contract, so `--loss warpctc` runs anywhere:

- inputs: `data`, activations of shape (input_length * batch, alphabet) in time-major order
  (row t * batch + n), and `label`, int32 of shape (batch * label_length,) padded with 0;
- forward: the softmax of the activations (what metrics and inference read);
- backward: the gradient of the CTC cost with respect to the activations, blank = 0, as
  warp-ctc computes it (zeros in a label are dropped, as the plugin drops them).

The alpha/beta recursions run in log space with numpy, vectorised over the batch and the
label positions; the only Python loop is over time. `ctc_cost_and_grad` is usable on its own.
"""
import mxnet as mx
import numpy as np

BLANK = 0


def log_softmax(activations):
    shifted = activations - activations.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def extend_labels(labels, alphabet):
    """(batch, L) labels padded with 0 -> blank-interleaved (batch, 2L + 1) and real lengths.

    Raises ValueError for a label value outside 1..alphabet-1."""
    labels = np.asarray(labels, dtype=np.int64)
    bad = (labels < 0) | (labels >= alphabet)
    if bad.any():
        raise ValueError(f"CTC label value {labels[bad][0]} is outside 0..{alphabet - 1} "
                         f"(0 = blank/padding, 1..{alphabet - 1} = classes)")
    # zeros are padding: move the real labels to the front of each row, as warp-ctc sees them
    order = np.argsort(labels == BLANK, axis=1, kind='stable')
    packed = np.take_along_axis(labels, order, axis=1)
    lengths = (labels != BLANK).sum(axis=1)
    extended = np.zeros((labels.shape[0], 2 * labels.shape[1] + 1), dtype=np.int64)
    extended[:, 1::2] = packed
    return extended, lengths


def _alpha(activations, labels):
    """The CTC forward recursion in log space, shared by the cost, its gradient and
    inference's confidence. Raises ValueError for a label that cannot be aligned to T steps
    (too long once repeats are separated by blanks)."""
    T, batch, alphabet = activations.shape
    extended, lengths = extend_labels(labels, alphabet)
    S = extended.shape[1]
    repeats = (extended[:, 3::2] == extended[:, 1:-2:2]) & (extended[:, 3::2] != BLANK)
    needed = lengths + repeats.sum(axis=1)
    if (needed > T).any():
        n = int(np.argmax(needed > T))
        raise ValueError(f"CTC label of sample {n} needs {needed[n]} time steps (its "
                         f"{lengths[n]} labels plus blanks between repeats) but the input has {T}")

    log_probs = log_softmax(activations)  # float32 from MXNet, as contrib.ctc_loss computes
    batch_index = np.arange(batch)[:, None]
    emit = log_probs[:, batch_index, extended]  # (T, batch, S): log y_t(l'_s)
    can_skip = np.zeros((batch, S), dtype=bool)
    can_skip[:, 2:] = (extended[:, 2:] != BLANK) & (extended[:, 2:] != extended[:, :-2])
    last, second_last = (2 * lengths)[:, None], (2 * lengths - 1)[:, None]

    alpha = np.full((T, batch, S), -np.inf, dtype=log_probs.dtype)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, T):
        prev, now = alpha[t - 1], alpha[t]
        now[:] = prev
        now[:, 1:] = np.logaddexp(prev[:, 1:], prev[:, :-1])
        now[:, 2:] = np.where(can_skip[:, 2:], np.logaddexp(now[:, 2:], prev[:, :-2]), now[:, 2:])
        now += emit[t]

    final = alpha[T - 1]
    end_on_label = np.take_along_axis(final, np.maximum(second_last, 0), axis=1)[:, 0]
    log_likelihood = np.logaddexp(np.take_along_axis(final, last, axis=1)[:, 0],
                                  np.where(lengths > 0, end_on_label, -np.inf))
    return log_probs, extended, lengths, emit, can_skip, alpha, log_likelihood


def ctc_log_likelihood(activations, labels):
    """log p(labels | activations) per sample, summed over every alignment.

    activations: (T, batch, alphabet) scores before softmax (log-probabilities work too);
    labels: (batch, L), 0-padded."""
    return _alpha(activations, labels)[-1]


def ctc_cost_and_grad(activations, labels):
    """CTC cost per sample and its gradient with respect to the activations.

    activations: (T, batch, alphabet) scores before softmax; labels: (batch, L), 0-padded.
    Returns (cost (batch,), grad (T, batch, alphabet)). Raises ValueError for a label that
    cannot be aligned to T steps."""
    log_probs, extended, lengths, emit, can_skip, alpha, log_likelihood = _alpha(activations,
                                                                                labels)
    T, batch, alphabet = activations.shape
    S = extended.shape[1]
    last, second_last = (2 * lengths)[:, None], (2 * lengths - 1)[:, None]

    beta = np.full((T, batch, S), -np.inf, dtype=log_probs.dtype)
    positions = np.arange(S)[None, :]
    ends = (positions == last) | (positions == second_last)
    beta[T - 1] = np.where(ends, emit[T - 1], -np.inf)
    for t in range(T - 2, -1, -1):
        nxt, now = beta[t + 1], beta[t]
        now[:] = nxt
        now[:, :-1] = np.logaddexp(nxt[:, :-1], nxt[:, 1:])
        # s -> s + 2 is allowed exactly where alpha may skip into s + 2
        now[:, :-2] = np.where(can_skip[:, 2:], np.logaddexp(now[:, :-2], nxt[:, 2:]),
                               now[:, :-2])
        now += emit[t]

    # occupancy of each extended position: alpha_t(s) beta_t(s) / (y_t(l'_s) p(l|x))
    with np.errstate(invalid='ignore'):
        occupancy = np.exp(alpha + beta - emit - log_likelihood[None, :, None])
    occupancy = np.nan_to_num(occupancy)
    one_hot = np.eye(alphabet, dtype=log_probs.dtype)[extended]  # (batch, S, alphabet)
    grad = np.exp(log_probs) - np.einsum('tns,nsc->tnc', occupancy, one_hot)
    return -log_likelihood, grad


class WarpCTC(mx.operator.CustomOp):
    def __init__(self, label_length, input_length):
        super().__init__()
        self.label_length, self.input_length = label_length, input_length

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], mx.nd.softmax(in_data[0], axis=-1))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        rows, alphabet = in_data[0].shape
        activations = in_data[0].asnumpy().reshape(self.input_length, -1, alphabet)
        labels = in_data[1].asnumpy().reshape(-1, self.label_length)
        _, grad = ctc_cost_and_grad(activations, labels)
        self.assign(in_grad[0], req[0], mx.nd.array(grad.reshape(rows, alphabet)))
        self.assign(in_grad[1], req[1], mx.nd.zeros(in_data[1].shape, dtype=in_data[1].dtype))


@mx.operator.register('warpctc')
class WarpCTCProp(mx.operator.CustomOpProp):
    def __init__(self, label_length, input_length):
        super().__init__(need_top_grad=False)  # a loss layer: its gradient is its own
        self.label_length, self.input_length = int(label_length), int(input_length)

    def list_arguments(self):
        return ['data', 'label']

    def list_outputs(self):
        return ['output']

    def infer_shape(self, in_shape):
        data_shape = in_shape[0]
        batch = data_shape[0] // self.input_length
        return [data_shape, (batch * self.label_length,)], [data_shape], []

    def infer_type(self, in_type):
        return [in_type[0], np.int32], [in_type[0]], []

    def create_operator(self, ctx, shapes, dtypes):
        return WarpCTC(self.label_length, self.input_length)


def warp_ctc(data, label, label_length, input_length, name):
    """The WarpCTC head as a symbol, with mx.sym.WarpCTC's arguments."""
    return mx.sym.Custom(data=data, label=label, label_length=label_length,
                         input_length=input_length, op_type='warpctc', name=name)

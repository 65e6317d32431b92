"""An `mx.io.DataIter` of captcha batches for `Module.fit`.

Each batch holds `data` (batch, num_columns, column_height) images as the network reads
them (image_conversion.network_input), the LSTM's initial states (all zeros) and `label`
(batch, num_label): class ids padded with 0, the CTC blank. The source is anything with
`get_batch(batch_size)` -> (views, labels): captchas drawn in this process or by worker
processes (captcha_generator.py), or a set held in memory (datasets.LabelledSet). A short
last batch of an in-order set is padded with empty rows, which `DataBatch.pad` counts and
the metrics do not score.
"""
import mxnet as mx
import numpy as np

from common.datasets import LabelledSet
from common.image_conversion import network_input


class OCRIter(mx.io.DataIter):
    """`count` batches per epoch of `batch_size` captchas from `source`."""

    def __init__(self, count, batch_size, init_states, source, num_label, input_shape):
        super().__init__(batch_size)
        self.count, self.source = count, source
        self.init_state_arrays = [mx.nd.zeros(shape) for _, shape in init_states]
        self.provide_data = ([mx.io.DataDesc('data', (batch_size,) + tuple(input_shape))]
                             + [mx.io.DataDesc(name, shape) for name, shape in init_states])
        self.provide_label = [mx.io.DataDesc('label', (batch_size, num_label))]
        self.batches_served = 0

    def reset(self):
        self.batches_served = 0

    def next(self):
        if self.batches_served >= self.count:
            raise StopIteration
        self.batches_served += 1
        views, labels = self.source.get_batch(self.batch_size)
        pad = self.batch_size - len(labels)
        images = network_input(views)
        if pad:
            images = np.concatenate([images, np.zeros((pad,) + images.shape[1:], np.float32)])
            labels = np.concatenate([labels, np.zeros((pad, labels.shape[1]), np.float32)])
        return mx.io.DataBatch([mx.nd.array(images)] + self.init_state_arrays,
                               [mx.nd.array(labels)], pad=pad,
                               provide_data=self.provide_data, provide_label=self.provide_label)


def in_order_iter(labelled, batch_size, init_states, num_label, input_shape):
    """An OCRIter over every captcha of a LabelledSet, in order, once per epoch."""
    count = -(-len(labelled) // batch_size)
    return OCRIter(count, batch_size, init_states, labelled, num_label, input_shape)


def drawn_set(captcha, size):
    """`size` captchas drawn once from `captcha`, held in memory."""
    return LabelledSet(*captcha.get_batch(size))

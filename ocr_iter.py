"""An `mx.io.DataIter` of captcha batches for `Module.fit`.

Each batch holds `data` (batch, 80, 30) images, the LSTM's initial states (all zeros) and
`label` (batch, num_label): digit d as class d + 1, padded with 0 (the CTC blank). The
captcha source is anything with `get_batch(batch_size)`: a DigitCaptcha drawing in this
process, an MPDigitCaptcha drawing in worker processes, a fixed in-memory set, or a
RecordIO dataset written by captcha_generator.py --rec.
"""
import os

import mxnet as mx
import numpy as np

from captcha_generator import COLUMN_HEIGHT, SEQ_LENGTH, image_to_sequence
from captcha_generator import encode_label as get_label  # noqa: F401  (the seed's name)


class SimpleBatch(mx.io.DataBatch):
    """A DataBatch that describes its own arrays by name."""

    def __init__(self, data_names, data, label_names, label):
        super().__init__(data=data, label=label, pad=0,
                         provide_data=[mx.io.DataDesc(n, x.shape)
                                       for n, x in zip(data_names, data)],
                         provide_label=[mx.io.DataDesc(n, x.shape)
                                        for n, x in zip(label_names, label)])
        self.data_names, self.label_names = data_names, label_names


class OCRIter(mx.io.DataIter):
    """`count` batches per epoch of `batch_size` captchas from `captcha`."""

    def __init__(self, count, batch_size, lstm_init_states, captcha, num_label=4, name=''):
        super().__init__(batch_size)
        self.count, self.captcha, self.name = count, captcha, name
        self.init_state_names = [name for name, _ in lstm_init_states]
        self.init_state_arrays = [mx.nd.zeros(shape) for _, shape in lstm_init_states]
        self.provide_data = ([mx.io.DataDesc('data', (batch_size,) + tuple(captcha.shape))]
                             + [mx.io.DataDesc(n, s) for n, s in lstm_init_states])
        self.provide_label = [mx.io.DataDesc('label', (batch_size, num_label))]
        self.batches_served = 0

    def reset(self):
        self.batches_served = 0

    def next(self):
        if self.batches_served >= self.count:
            raise StopIteration
        self.batches_served += 1
        images, labels = self.captcha.get_batch(self.batch_size)
        return SimpleBatch(['data'] + self.init_state_names,
                           [mx.nd.array(images)] + self.init_state_arrays,
                           ['label'], [mx.nd.array(labels)])


class FixedCaptchaSet:
    """The same captchas every epoch, held in memory and served batch by batch: in order,
    or with `shuffle` in a new random order on every pass."""

    def __init__(self, images, labels, shuffle=False, seed=None):
        self.images, self.labels = images, labels
        self.shape = images.shape[1:]
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)
        self.order = np.arange(len(labels))
        self.position = len(self.order)  # the first get_batch starts a (shuffled) pass

    @classmethod
    def draw(cls, captcha, size):
        images, labels = captcha.get_batch(size)
        return cls(images, labels)

    def __len__(self):
        return len(self.labels)

    def network_input(self, images):
        return images

    def get_batch(self, batch_size):
        if self.position + batch_size > len(self.order):
            if self.shuffle:
                self.rng.shuffle(self.order)
            self.position = 0
        chosen = self.order[self.position:self.position + batch_size]
        self.position += batch_size
        return self.network_input(self.images[chosen]), self.labels[chosen]


def fixed_iter(captcha, size, batch_size, lstm_init_states, num_label, name='val'):
    """An OCRIter over `size // batch_size` batches drawn once from `captcha`."""
    count = size // batch_size
    fixed = FixedCaptchaSet.draw(captcha, count * batch_size)
    return OCRIter(count, batch_size, lstm_init_states, fixed, num_label, name)


class RecordCaptchaSet(FixedCaptchaSet):
    """Captchas from a RecordIO file (captcha_generator.py --rec), held in memory as their
    80x30 grayscale uint8 images (a quarter of the network input's size) and converted a
    batch at a time; shuffled by default. `shard` = (index, count) keeps every count-th
    record from the index-th: one worker's share in distributed training."""

    def __init__(self, path, num_label, shuffle=True, seed=None, shard=(0, 1)):
        small, labels = read_record_file(path, num_label)
        super().__init__(small[shard[0]::shard[1]], labels[shard[0]::shard[1]], shuffle, seed)
        self.shape = (SEQ_LENGTH, COLUMN_HEIGHT)

    def network_input(self, images):
        return np.stack([image_to_sequence(image) for image in images])


def read_record_file(path, num_label):
    """RecordIO dataset -> (images (N, 30, 80) uint8, labels (N, num_label) float32).
    Raises ValueError for a missing or foreign file."""
    if not os.path.isfile(path):
        raise ValueError(f"dataset {path!r} not found: write one with captcha_generator.py "
                         "--count N --rec FILE")
    record = mx.recordio.MXRecordIO(path, 'r')
    images, labels = [], []
    try:
        while (item := record.read()) is not None:
            header, image = mx.recordio.unpack_img(item, 0)  # 0: as grayscale
            if image is None or np.size(header.label) != num_label:
                raise ValueError(f"{path!r} record {len(images)} is not a {num_label}-digit "
                                 "captcha: write the dataset with captcha_generator.py --rec")
            images.append(image)
            labels.append(header.label)
    except mx.base.MXNetError:
        raise ValueError(f"{path!r} is not an MXNet RecordIO file (or is truncated)")
    finally:
        record.close()
    if not images:
        raise ValueError(f"dataset {path!r} is empty")
    return np.stack(images), np.array(labels, dtype=np.float32)

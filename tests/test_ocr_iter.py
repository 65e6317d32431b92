"""The DataIter Module.fit reads: names, shapes, zero states, padding of a short last batch."""
import numpy as np

import lstm
from captcha_generator import TextCaptcha
from common.datasets import LabelledSet
from ocr_iter import OCRIter, drawn_set, in_order_iter


def test_provide_data_and_label(font):
    states = lstm.init_states(4, 2, 16)
    it = OCRIter(3, 4, states, TextCaptcha([font], seed=1), 4, (80, 30))
    assert [(d.name, d.shape) for d in it.provide_data] == [('data', (4, 80, 30))] + states
    assert [(d.name, d.shape) for d in it.provide_label] == [('label', (4, 4))]


def test_count_batches_per_epoch_then_reset(font):
    states = lstm.init_states(4, 1, 8)
    it = OCRIter(3, 4, states, TextCaptcha([font], seed=1), 4, (80, 30))
    batches = list(it)
    assert len(batches) == 3
    batch = batches[0]
    assert batch.data[0].shape == (4, 80, 30) and batch.label[0].shape == (4, 4)
    assert 0 <= batch.data[0].asnumpy().min() and batch.data[0].asnumpy().max() <= 1
    assert all(np.all(state.asnumpy() == 0) for state in batch.data[1:])
    labels = batch.label[0].asnumpy()
    assert set(labels[:, :3].ravel()) <= set(range(1, 11))  # 3 digits at least
    assert [d.name for d in batch.provide_data] == ['data', 'l0_init_c', 'l0_init_h']
    it.reset()
    assert len(list(it)) == 3


def test_in_order_iter_serves_the_same_captchas_every_epoch_and_pads_the_last(font):
    fixed = drawn_set(TextCaptcha([font], seed=5), 10)
    it = in_order_iter(fixed, 4, lstm.init_states(4, 1, 8), 4, (80, 30))
    first = list(it)
    it.reset()
    second = list(it)
    assert [b.pad for b in first] == [0, 0, 2]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.data[0].asnumpy(), b.data[0].asnumpy())
    assert not first[-1].label[0].asnumpy()[2:].any()  # padding rows: empty labels


def test_views_become_columns():
    views = np.zeros((2, 30, 80), np.uint8)
    views[:, :, 5] = 255
    it = OCRIter(1, 2, [], LabelledSet(views, np.ones((2, 4), np.float32)), 4, (80, 30))
    data = next(iter(it)).data[0].asnumpy()
    assert data.shape == (2, 80, 30) and np.all(data[:, 5] == 1) and data[:, 4].sum() == 0

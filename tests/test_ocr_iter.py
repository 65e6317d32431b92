import numpy as np

import lstm
from captcha_generator import DigitCaptcha
from ocr_iter import FixedCaptchaSet, OCRIter, fixed_iter, get_label


def test_provide_data_and_label(font):
    states = lstm.init_states(4, 2, 16)
    it = OCRIter(3, 4, states, DigitCaptcha([font], seed=1), num_label=4)
    assert [(d.name, d.shape) for d in it.provide_data] == [('data', (4, 80, 30))] + states
    assert [(d.name, d.shape) for d in it.provide_label] == [('label', (4, 4))]


def test_count_batches_per_epoch_then_reset(font):
    states = lstm.init_states(4, 1, 8)
    it = OCRIter(3, 4, states, DigitCaptcha([font], seed=1), num_label=4)
    batches = list(it)
    assert len(batches) == 3
    batch = batches[0]
    assert batch.data[0].shape == (4, 80, 30) and batch.label[0].shape == (4, 4)
    assert all(np.all(state.asnumpy() == 0) for state in batch.data[1:])
    labels = batch.label[0].asnumpy()
    assert set(labels[:, :3].ravel()) <= set(range(1, 11))  # 3 digits at least
    assert [d.name for d in batch.provide_data] == ['data', 'l0_init_c', 'l0_init_h']
    it.reset()
    assert len(list(it)) == 3


def test_fixed_iter_serves_the_same_captchas_every_epoch(font):
    it = fixed_iter(DigitCaptcha([font], seed=5), 12, 4, lstm.init_states(4, 1, 8), 4)
    first = [b.data[0].asnumpy() for b in it]
    it.reset()
    second = [b.data[0].asnumpy() for b in it]
    assert len(first) == 3
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_fixed_set_batches_in_order():
    images = np.arange(6 * 80 * 30, dtype=np.float32).reshape(6, 80, 30)
    fixed = FixedCaptchaSet(images, np.zeros((6, 4), np.float32))
    np.testing.assert_array_equal(fixed.get_batch(3)[0], images[:3])
    np.testing.assert_array_equal(fixed.get_batch(3)[0], images[3:])
    np.testing.assert_array_equal(fixed.get_batch(3)[0], images[:3])


def test_get_label_is_the_seed_name_for_label_encoding():
    np.testing.assert_array_equal(get_label('70', 4), [8, 1, 0, 0])

"""Labelled datasets: folders and labels files packed once into indexed RecordIO, records of
the older digit format, the in-memory set, and bad data refused with the file's name."""
import os
import time

import cv2
import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from captcha_generator import TextCaptcha, encoded
from common import datasets
from common.alphabet import Alphabet, parse_charset
from common.image_conversion import Conversion
from common.labelled_files import labelled_files

ALNUM = Alphabet(parse_charset('0-9a-z'))


def write_folder(folder, font, count=6, seed=1):
    folder.mkdir(exist_ok=True)
    captcha = TextCaptcha([font], ALNUM, (5, 5), seed=seed)
    for index, (data, text) in enumerate(encoded(captcha, count)):
        (folder / f"{text}_{index}.png").write_bytes(data)
    return sorted(p.name.split('_')[0] for p in folder.iterdir())


def test_a_folder_is_packed_once_and_reused_while_unchanged(tmp_path, font):
    texts = write_folder(tmp_path / 'mine', font)
    cache = tmp_path / 'cache'
    packed = datasets.pack(str(tmp_path / 'mine'), str(cache))
    assert packed.endswith('.rec') and os.path.isfile(packed[:-4] + '.idx')
    index = mx.recordio.MXIndexedRecordIO(packed[:-4] + '.idx', packed, 'r')
    assert sorted(index.keys) == list(range(6))
    stamp = os.stat(packed).st_mtime_ns
    time.sleep(0.01)
    assert datasets.pack(str(tmp_path / 'mine'), str(cache)) == packed
    assert os.stat(packed).st_mtime_ns == stamp  # reused, not rewritten
    views, read_texts, names = datasets.load(str(tmp_path / 'mine'), Conversion(), str(cache))
    assert sorted(read_texts) == texts and views.shape == (6, 30, 80)
    assert all(name.startswith(str(tmp_path / 'mine')) for name in names)
    name = sorted(os.listdir(tmp_path / 'mine'))[0]
    os.rename(tmp_path / 'mine' / name, tmp_path / 'mine' / f"zzzzz_{name}")
    assert datasets.pack(str(tmp_path / 'mine'), str(cache)) != packed  # changed: packed anew


def test_gif_and_jpeg_files_pack_like_png(tmp_path, font):
    texts = write_folder(tmp_path / 'mine', font, count=3)
    for path, suffix in zip(sorted((tmp_path / 'mine').iterdir())[:2], ('.gif', '.jpg')):
        Image.open(path).convert('RGB').save(path.with_suffix(suffix))
        path.unlink()
    views, read_texts, names = datasets.load(str(tmp_path / 'mine'), Conversion(), str(tmp_path))
    assert sorted(read_texts) == texts and views.shape == (3, 30, 80)
    assert sorted(os.path.splitext(name)[1] for name in names) == ['.gif', '.jpg', '.png']


@pytest.mark.parametrize('separator,header', [(',', 'path,text\n'), ('\t', '')])
def test_labels_files_with_relative_paths(separator, header, tmp_path, font):
    write_folder(tmp_path / 'images', font, count=3)
    lines = [f"images/{name}{separator}{name.split('_')[0].upper()}"
             for name in sorted(os.listdir(tmp_path / 'images'))]
    labels = tmp_path / 'labels.csv'
    labels.write_text(header + '\n'.join(lines) + '\n')
    entries = labelled_files(str(labels))
    assert [text for _, text in entries] == [line.split(separator)[1] for line in lines]
    assert all(os.path.isfile(path) for path, _ in entries)


@pytest.mark.parametrize('content,says', [
    ('images/none.png,abc\n', "names 'images/none.png', which does not exist"),
    ('{first},abc\n{first},abd\n', 'a second time'),
    ('{first}\n', "is not 'path,text'"),
    ('', 'lists no images'),
])
def test_bad_labels_files(content, says, tmp_path, font):
    write_folder(tmp_path / 'images', font, count=1)
    first = 'images/' + os.listdir(tmp_path / 'images')[0]
    labels = tmp_path / 'labels.txt'
    labels.write_text(content.format(first=first))
    with pytest.raises(ValueError, match=says):
        labelled_files(str(labels))


def test_unreadable_images_stop_packing_or_are_skipped(tmp_path, font):
    write_folder(tmp_path / 'mine', font, count=4)
    (tmp_path / 'mine' / 'abcde_bad.png').write_bytes(b'not an image')
    with pytest.raises(ValueError, match=r"1 of 5 images cannot be read: .*abcde_bad.png.* "
                                         r"--skip_bad"):
        datasets.pack(str(tmp_path / 'mine'), str(tmp_path / 'cache'))
    assert not (tmp_path / 'cache').exists() or not os.listdir(tmp_path / 'cache')
    packed = datasets.pack(str(tmp_path / 'mine'), str(tmp_path / 'cache'), skip_bad=True)
    assert len(list(datasets.read_records(packed))) == 4


def test_an_interrupted_write_leaves_no_dataset(tmp_path):
    def items():
        yield cv2.imencode('.png', np.zeros((8, 8), np.uint8))[1].tobytes(), 'ab'
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        datasets.write_records(str(tmp_path / 'cut.rec'), items(), 2)
    assert os.listdir(tmp_path) == []


def test_records_of_the_older_digit_format_still_read(tmp_path):
    path = str(tmp_path / 'old.rec')
    record = mx.recordio.MXRecordIO(path, 'w')
    view = np.random.RandomState(0).randint(0, 256, (30, 80), dtype=np.uint8)
    record.write(mx.recordio.pack_img(mx.recordio.IRHeader(0, [1, 9, 10, 0], 0, 0), view,
                                      img_fmt='.png'))
    record.close()
    [(data, text)] = datasets.read_records(path)
    assert text == '089'
    views, _, _ = datasets.load(path, Conversion(), str(tmp_path))
    np.testing.assert_array_equal(views[0], view)


@pytest.mark.parametrize('texts,num_label,num_steps,says', [
    (['ab1', 'AB!'], 4, 20, "sample 1 cannot be trained on: its label 'ab!' has '!'"),
    (['ab1', 'abcdef'], 4, 20, "sample 1 .* more than --num_label 4"),
    (['aaaa'], 4, 6, 'needs 7 CTC steps'),
    ([''], 4, 20, 'empty'),
])
def test_labels_the_model_cannot_hold_are_named(texts, num_label, num_steps, says):
    names = [f"sample {i}" for i in range(len(texts))]
    with pytest.raises(ValueError, match=says):
        datasets.encode_labels(texts, names, ALNUM, num_label, num_steps)


def test_labels_fold_to_a_one_case_alphabet():
    labels = datasets.encode_labels(['AbC12'], ['x'], ALNUM, 5, 20)
    assert ALNUM.label_text(labels[0]) == 'abc12'


def test_labelled_set_shuffles_each_pass_and_keeps_every_sample():
    views = np.arange(8 * 30 * 80, dtype=np.uint8).reshape(8, 30, 80)
    labels = np.arange(8, dtype=np.float32)[:, None] + 1
    shuffled = datasets.LabelledSet(views, labels, shuffle=True, seed=0)
    passes = [np.concatenate([shuffled.get_batch(4)[1] for _ in range(2)]) for _ in range(3)]
    for batch in passes:
        assert sorted(batch[:, 0]) == list(range(1, 9))
    assert any(not np.array_equal(a, b) for a, b in zip(passes, passes[1:]))
    in_order = datasets.LabelledSet(views, labels)
    assert [len(in_order.get_batch(3)[1]) for _ in range(3)] == [3, 3, 2]  # OCRIter pads


def test_held_out_part_is_fixed_and_disjoint():
    views = np.zeros((20, 30, 80), np.uint8)
    labels = np.arange(20, dtype=np.float32)[:, None] + 1
    rest, held = datasets.LabelledSet(views, labels).split(4, seed=5)
    again = datasets.LabelledSet(views, labels).split(4, seed=5)[1]
    assert len(held) == 4 and len(rest) == 16
    np.testing.assert_array_equal(held.labels, again.labels)
    assert not set(held.labels[:, 0]) & set(rest.labels[:, 0])


def test_augmentation_distorts_but_keeps_the_shape(font):
    views, labels = TextCaptcha([font], seed=2).get_batch(4)
    augmented = datasets.LabelledSet(views, labels, augment=True, seed=1).get_batch(4)[0]
    assert augmented.shape == views.shape and augmented.dtype == np.uint8
    assert (augmented != views).mean() > 0.2

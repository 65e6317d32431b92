"""Labelled captcha datasets: MXNet RecordIO files, and the in-memory sets training reads.

A dataset file holds one record per captcha, written with `mx.recordio.MXIndexedRecordIO`
(FILE.rec and its index FILE.idx, as MXNet's im2rec writes them): the image file's own bytes
(PNG or JPEG, any size and colour) and, in the header's label, the text as Unicode code
points (header id2 = 1). Records of the older 80x30 digit datasets (id2 = 0: the network's
view as PNG, the label as class ids) read too. Because records hold the image as drawn,
not a network's view, one dataset serves models of any input conversion and alphabet.

A labelled folder or labels file (labelled_files.py) is packed into such a file once, under
a cache folder, named by a fingerprint of the files' names, sizes, times and labels; it is
reused while they are unchanged. Only images that can be read are packed (labelled_files.py
says which files are read at all); files are written whole (whole_files.py). For training,
a dataset is read into memory as views (image_conversion.py) with labels encoded for the
model's alphabet (alphabet.py).
"""
import glob
import hashlib
import logging
import os
import struct

import cv2
import mxnet as mx
import numpy as np

from common.alphabet import DIGITS, Alphabet, covering_charset
from common.cli import progress
from common.image_conversion import decode_image, image_bytes
from common.labelled_files import LONGEST_LABEL, labelled_files
from common.whole_files import remove_stale_temporaries, why_not_written, written_whole

TEXT_LABELS = 1  # header id2 of records whose label holds the text's code points
FORMAT = 'lstm-ocr-records/1'  # part of the fingerprint: a new format packs anew


def write_records(path, items, total, label="Writing records"):
    """(image bytes, text) pairs -> FILE.rec and FILE.idx, each written whole
    (whole_files.py), the .rec last: a .rec present is a whole one. Raises ValueError."""
    index_path = os.path.splitext(path)[0] + '.idx'
    try:
        with written_whole(path, errors=()) as rec_temporary, \
                written_whole(index_path, errors=()) as index_temporary:
            try:
                record = mx.recordio.MXIndexedRecordIO(index_temporary, rec_temporary, 'w')
            except (mx.base.MXNetError, OSError):
                raise ValueError(f"cannot write {path!r}: check that its folder exists and "
                                 "is writable") from None
            try:
                return write_all(record, progress(items, total, label))
            finally:
                record.close()
    except (mx.base.MXNetError, OSError) as err:
        raise ValueError(f"cannot write {path!r}: {why_not_written(err)}") from None


def write_all(record, items):
    """(image bytes, text) pairs -> records of an open MXIndexedRecordIO -> their count."""
    count = 0
    for count, (data, text) in enumerate(items, 1):
        header = mx.recordio.IRHeader(0, [float(ord(c)) for c in text], count - 1, TEXT_LABELS)
        record.write_idx(count - 1, mx.recordio.pack(header, data))
    return count


def read_records(path):
    """Yield (image bytes, text) from a dataset file. Raises ValueError for a missing or
    foreign file, or a record whose label is no text."""
    if not os.path.isfile(path):
        raise ValueError(f"dataset {path!r} not found: write one with captcha_generator.py "
                         "--count N --rec FILE")
    record = mx.recordio.MXRecordIO(path, 'r')
    try:
        number = 0
        while (header_and_data := next_record(record, path, number)) is not None:
            header, data = header_and_data
            yield data, record_text(header, f"record {number} of {path!r}")
            number += 1
    finally:
        record.close()


def next_record(record, path, number):
    """The next record's (header, image bytes), or None at the end. Raises ValueError."""
    try:
        item = record.read()
        return None if item is None else mx.recordio.unpack(item)
    except (mx.base.MXNetError, ValueError, IndexError, struct.error):
        raise ValueError(f"{path!r} is not an MXNet RecordIO dataset (or is truncated at "
                         f"record {number})")


def record_text(header, name):
    """A record header's label -> its text: code points (id2 = TEXT_LABELS), or the older
    format's digit class ids. Raises ValueError naming the record for any other label."""
    codes = np.atleast_1d(header.label)
    limit = 0x110000 if header.id2 == TEXT_LABELS else len(DIGITS) + 1
    if (len(codes) > LONGEST_LABEL or not np.all(np.isfinite(codes))
            or np.any((codes < 0) | (codes >= limit) | (codes != np.round(codes)))):
        raise ValueError(f"{name} has a label that is not a text of at most {LONGEST_LABEL} "
                         "characters: write the dataset again")
    codes = codes.astype(int)
    if header.id2 == TEXT_LABELS:
        return ''.join(chr(c) for c in codes if c)
    return Alphabet(DIGITS).label_text(codes)


def fingerprint(entries):
    digest = hashlib.sha1(FORMAT.encode())
    for path, text in entries:
        try:
            stat = os.stat(path)
            state = f"{stat.st_size}\0{stat.st_mtime_ns}"
        except OSError as err:  # a broken link, say: packing names it
            state = f"errno {err.errno}"
        digest.update(f"{path}\0{state}\0{text}\n".encode())
    return digest.hexdigest()[:12]


def prepare_cache(cache_dir):
    """Create the cache folder if missing, and remove the temporaries of packing runs that
    were killed. Raises ValueError unless it is a writable folder."""
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError as err:
        why = "it is a file" if os.path.isfile(cache_dir) else err.strerror
        raise ValueError(f"cannot create the cache folder {cache_dir!r} ({why}): change "
                         "--cache_dir")
    if not os.access(cache_dir, os.W_OK | os.X_OK):
        raise ValueError(f"the cache folder {cache_dir!r} is not writable: change --cache_dir")
    remove_stale_temporaries(os.path.join(glob.escape(cache_dir), '*'))


def packed_count(packed):
    """The number of records in a packed dataset (the lines of its index), or None."""
    try:
        with open(os.path.splitext(packed)[0] + '.idx', 'rb') as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def listed(items, shown=3):
    """'a', 'b', 'c', ... : the first few of `items`, quoted."""
    return ', '.join(map(repr, items[:shown])) + (', ...' if len(items) > shown else '')


def readable_images(entries, name, skip_bad):
    """[(image bytes, text)] of the entries whose image can be read. An unreadable one stops
    it with a message naming the first few, or is left out with `skip_bad`."""
    good, bad = [], []
    for path, text in progress(entries, len(entries), f"Checking {name}"):
        try:
            data = image_bytes(path)
            decode_image(data, f"image {path!r}")
            good.append((data, text))
        except ValueError as err:
            bad.append((path, err))
    if bad:
        if not skip_bad:
            others = listed([path for path, _ in bad[1:]])
            raise ValueError(f"{len(bad)} of {len(entries)} images cannot be read: {bad[0][1]}"
                             + (f"; also {others}" if others else '')
                             + "; fix or remove them, or pass --skip_bad to leave them out")
        logging.warning("Leaving out %d of %d images that cannot be read: %s", len(bad),
                        len(entries), listed([path for path, _ in bad]))
    return good


def pack(source, cache_dir, skip_bad=False):
    """A labelled folder or labels file -> its packed dataset file, written once into
    `cache_dir` and reused while the source is unchanged (one packed with images left out
    only with `skip_bad`). Images that cannot be read: see readable_images."""
    entries = [(os.path.abspath(path), text) for path, text in labelled_files(source)]
    name = os.path.basename(os.path.normpath(source))
    packed = os.path.join(cache_dir, f"{name}-{fingerprint(entries)}.rec")
    count = packed_count(packed) if os.path.isfile(packed) else None
    if count is not None and (count == len(entries) or skip_bad):
        logging.info("Reusing %s, packed from %s (%d of %d images)", packed, source, count,
                     len(entries))
        return packed
    prepare_cache(cache_dir)
    good = readable_images(entries, name, skip_bad)
    write_records(packed, good, len(good), f"Packing {name}")
    logging.info("Packed %d images from %s into %s", len(good), source, packed)
    return packed


def load(path, conversion, cache_dir, skip_bad=False):
    """A dataset file, labelled folder or labels file -> (views (n, height, width) uint8,
    texts, names): every image converted by `conversion`, named for error messages. A
    record that cannot be read stops it, or is left out with `skip_bad`."""
    record_file = path if path.endswith('.rec') else pack(path, cache_dir, skip_bad)
    entries = ([] if path.endswith('.rec') else
               [p for p, _ in labelled_files(path)])
    views, texts, names, left_out = [], [], [], []
    for number, (data, text) in enumerate(progress(read_records(record_file), None,
                                                   f"Reading {os.path.basename(path)}")):
        name = f"record {number} of {path!r}"
        try:
            views.append(conversion.view(decode_image(data, name)))
        except ValueError as err:
            if not skip_bad:
                raise ValueError(f"{err}: write the dataset again, or pass --skip_bad to "
                                 "leave it out")
            left_out.append(number)
            continue
        texts.append(text)
        names.append(name)
    if left_out:
        logging.warning("Leaving out %d records of %s that cannot be read: %s", len(left_out),
                        path, listed(left_out))
    if not views:
        raise ValueError(f"dataset {path!r} is empty")
    if entries and len(entries) == len(names):  # nothing was left out: name the files
        names = entries
    return np.stack(views), texts, names


def encode_labels(texts, names, alphabet, num_label, num_steps):
    """Texts -> labels (n, num_label) float32 for `alphabet`, folded to its case. Raises
    ValueError naming the first captcha whose label cannot be one."""
    labels = np.zeros((len(texts), num_label), dtype=np.float32)
    folded_texts = [alphabet.fold(text) for text in texts]
    charset_hint = covering_charset(folded_texts)
    for row, folded, name in zip(labels, folded_texts, names):
        why = alphabet.problem(folded, num_label, num_steps, charset_hint)
        if why:
            raise ValueError(f"{name} cannot be trained on: {why}")
        row[:] = alphabet.encode(folded, num_label)
    return labels


class LabelledSet:
    """Captchas held in memory as views and labels, served a batch at a time: in order (the
    last batch may be short: OCRIter pads it), or with `shuffle` in a new random order on
    every pass, and with `augment` each view randomly distorted each time it is served."""

    def __init__(self, views, labels, shuffle=False, augment=False, seed=None):
        self.views, self.labels = views, labels
        self.shuffle, self.augment = shuffle, augment
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(labels))
        self.position = len(self.order)  # the first get_batch starts a (shuffled) pass

    def __len__(self):
        return len(self.labels)

    def split(self, count, seed):
        """(the rest, `count` captchas picked by `seed`): a fixed held-out part."""
        chosen = np.random.default_rng(seed).permutation(len(self))
        rest, held = np.sort(chosen[count:]), np.sort(chosen[:count])
        return (LabelledSet(self.views[rest], self.labels[rest], self.shuffle, self.augment,
                            self.rng.integers(2 ** 32)),
                LabelledSet(self.views[held], self.labels[held]))

    def get_batch(self, batch_size):
        """-> (views (n, height, width) uint8, labels (n, num_label)); shuffled sets always
        serve whole batches, wrapping around to a new pass."""
        if self.position >= len(self.order) or (
                self.shuffle and self.position + batch_size > len(self.order)):
            if self.shuffle:
                self.rng.shuffle(self.order)
            self.position = 0
        chosen = self.order[self.position:self.position + batch_size]
        self.position += batch_size
        views = self.views[chosen]
        if self.augment:
            views = np.stack([distort(view, self.rng) for view in views])
        return views, self.labels[chosen]


def distort(view, rng):
    """A view slightly moved, scaled, rotated, blurred and noised: small datasets then teach
    the network the text, not the exact pixels of a few hundred images."""
    height, width = view.shape
    angle, scale = rng.uniform(-3, 3), rng.uniform(0.9, 1.08)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-0.04, 0.04) * width, rng.uniform(-0.08, 0.08) * height
    border = int(np.median(np.concatenate([view[0], view[-1]])))
    moved = cv2.warpAffine(view, matrix, (width, height), borderValue=border).astype(np.float32)
    if rng.random() < 0.3:
        moved = cv2.GaussianBlur(moved, (3, 3), rng.uniform(0.3, 1.0))
    contrast, brightness = rng.uniform(0.7, 1.2), rng.uniform(-25, 25)
    moved = (moved - 128) * contrast + 128 + brightness
    if rng.random() < 0.3:
        moved += rng.normal(0, rng.uniform(2, 12), moved.shape)
    return np.clip(moved, 0, 255).astype(np.uint8)

"""Reading captchas with a trained model: images in, text and confidence out, whichever
runtime computes the network.

A model is anything with `config` (model_config.ModelConfig: conversion, alphabet),
`batch_size`, and `probabilities(inputs)`: network inputs (n, num_columns, column_height)
-> per-step class probabilities (num_steps, n, num_classes), n <= batch_size. MXNet
(mxnet_reader.py) and ONNX Runtime (onnx_reader.py) provide one; the image conversion
(image_conversion.py), CTC decoding (ctc.py) and the alphabet (alphabet.py) are shared, so
both read alike. No mxnet here: `load_model` imports it only to read an MXNet checkpoint.
"""
from collections import Counter
from typing import NamedTuple

import numpy as np

from common import ctc
from common.cli import non_negative_int, positive_int, use_every_core
from common.image_conversion import network_input, read_image, soften, thin
from ctc_metrics import exact_match, lcs_accuracy
from training.model_config import SHIPPED_EPOCH, SHIPPED_PREFIX


class Reading(NamedTuple):
    text: str
    confidence: float  # the probability of the text, summed over its alignments


def add_model_arguments(parser):
    """The options that choose a model: an MXNet checkpoint, or an exported ONNX model."""
    parser.add_argument('--prefix', help="checkpoint prefix (default: the model shipped in "
                                         "model/)")
    parser.add_argument('--epoch', type=positive_int,
                        help=f"checkpoint epoch (default: {SHIPPED_EPOCH})")
    parser.add_argument('--onnx', metavar='FILE',
                        help="read with this ONNX model (export_onnx.py, e.g. model/ocr.onnx) "
                             "through ONNX Runtime instead of a checkpoint: MXNet is not "
                             "imported")


def add_reading_arguments(parser):
    """The options that say how a model reads: decoding, and which views."""
    parser.add_argument('--beam', type=non_negative_int, default=0, metavar='N',
                        help="decode with CTC prefix beam search keeping N prefixes; "
                             "0 = greedy (best class per step)")
    parser.add_argument('--one_view', action='store_true',
                        help="read each image once, as converted, even where the model's "
                             "settings read images it is unsure of again, blurred "
                             "(soft_view), thinned (thin_view) and through windows "
                             "(window_views): the shipped "
                             "model's do (docs/training.md, \"More views\")")


def checkpoint_of(args):
    """(prefix, epoch) the options name; the shipped model's for what is not given."""
    return (SHIPPED_PREFIX if args.prefix is None else args.prefix,
            SHIPPED_EPOCH if args.epoch is None else args.epoch)


def load_model(args, batch_size):
    """The model the options of add_model_arguments name. Raises ValueError."""
    if args.onnx:
        if args.prefix is not None or args.epoch is not None:
            raise ValueError("give --onnx FILE or --prefix/--epoch, not both")
        from reader.onnx_reader import ONNXModel
        return ONNXModel(args.onnx, batch_size)
    use_every_core()  # a reader has the machine to itself; must come before mxnet's import
    try:
        from reader.mxnet_reader import MXNetModel
    except ImportError as err:
        raise ValueError(f"reading a checkpoint needs MXNet, which does not import here "
                         f"({err}): read an exported model with --onnx FILE instead")
    return MXNetModel(*checkpoint_of(args), batch_size)


def reading_record(reading, alphabet):
    """A reading as JSON: text and confidence, and the digits for a digit model."""
    record = {'text': reading.text, 'confidence': round(reading.confidence, 4)}
    if alphabet.is_digits:
        record['digits'] = [int(d) for d in reading.text]
    return record


def read_files(paths, conversion):
    """Read every file it can -> (paths read, their views (n, height, width) uint8, error
    messages)."""
    good, views, errors = [], [], []
    for path in paths:
        try:
            views.append(conversion.view(read_image(path)))
            good.append(path)
        except ValueError as err:
            errors.append(str(err))
    empty = np.zeros((0, conversion.height, conversion.width), np.uint8)
    return good, np.stack(views) if views else empty, errors


class LazyImages:
    """A sequence of BGR images, each decoded when it is asked for, as `load(source)`
    decodes it (e.g. image_conversion.read_image on paths): read_views needs only the few
    images it reads again, and thousands decoded at once could fill the memory."""

    def __init__(self, sources, load):
        self.sources, self.load = list(sources), load

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, index):
        return self.load(self.sources[index])


# Another view's reading replaces the first view's only when it is this many times as
# confident: docs/decisions.md#other-view-odds
OTHER_VIEW_ODDS = 1.5


def is_unsure(reading, odds=OTHER_VIEW_ODDS):
    """Whether another view's reading could replace this one: only one less sure than
    1 / `odds` can be beaten that many times over, confidences being probabilities."""
    return reading.confidence * odds < 1


def other_views(config, view, image):
    """The other views an image is read through, as its model's settings name them ->
    (views (k, height, width) of the whole image, views (m, height, width) of its windows):
    the view blurred (hp.soft_view) and thinned (hp.thin_view), the windows' views
    (hp.window_views). `image` is the BGR image, or None: then no windows."""
    hp, conversion = config.hp, config.conversion
    none = np.zeros((0, conversion.height, conversion.width), np.uint8)
    wholes = [soften(view[None], hp.soft_view)] if hp.soft_view else []
    if hp.thin_view:
        wholes.append(thin(view[None]))
    windows = none
    if image is not None and hp.window_views:
        windows = conversion.window_views(image)
    return np.concatenate([none, *wholes]), windows


# A window that cuts the text off reads part of it, often more surely than a window that
# holds all of it reads the whole. A window's reading that holds the surest reading's
# characters in order, and more, replaces it if it is at least this share as confident:
# docs/decisions.md#fuller-window-readings
FULLER_WINDOW_SHARE = 0.5


def holds_in_order(part, text):
    """Whether `text` has every character of `part`, in order (not necessarily together)."""
    characters = iter(text)
    return all(c in characters for c in part)


def fuller_reading(best, windows, share=FULLER_WINDOW_SHARE):
    """`best`, or the surest window reading that holds its text and more (holds_in_order)
    and is at least `share` as confident, again until none is."""
    while True:
        fuller = [r for r in windows if len(r.text) > len(best.text) and
                  holds_in_order(best.text, r.text) and r.confidence >= share * best.confidence]
        if not fuller:
            return best
        best = max(fuller, key=lambda r: r.confidence)


def best_other_reading(first, wholes, windows, odds=OTHER_VIEW_ODDS,
                       share=FULLER_WINDOW_SHARE):
    """The reading that replaces `first`: the surest of the other views' (made fuller from
    the windows, fuller_reading with `share`), if it is `odds` times as confident, else
    `first`. A window's reading counts only if it has at least as many characters as
    `first` and one or more: a window that cuts the text, or misses it, is often surer of
    what it holds than the whole image is. tools/reading_rules.py tries other odds and
    shares."""
    whole_text = [r for r in windows if r.text and len(r.text) >= len(first.text)]
    candidates = list(wholes) + whole_text
    if not candidates:
        return first
    best = fuller_reading(max(candidates, key=lambda r: r.confidence), windows, share)
    return best if best.confidence > odds * first.confidence else first


def read_views(model, views, beam_width=0, one_view=False, images=None):
    """Views (n, height, width) (Conversion.view) -> [Reading]. Greedy decoding, or prefix
    beam search keeping `beam_width` prefixes.

    Unless `one_view`, an image whose first reading is unsure (is_unsure) is read again
    through the other views its model's settings name (other_views), and the surest of
    those readings may replace the first (best_other_reading). `images`, a sequence of the
    BGR images (e.g. LazyImages), gives the text part and window views; without it only the
    blurred and thinned views are read. The others' readings could not be replaced: they
    are read once. The unsure images are read again a batch of them at a time: an image has
    up to three other whole views and image_conversion.MAX_WINDOWS windows, so all of them
    at once could fill the memory."""
    views = np.asarray(views)
    readings = read_batches(model, views, beam_width)
    if one_view:
        return readings
    unsure = [i for i, r in enumerate(readings) if is_unsure(r)]
    for start in range(0, len(unsure), model.batch_size):
        chosen = unsure[start:start + model.batch_size]
        others = [other_views(model.config, views[i], None if images is None else images[i])
                  for i in chosen]
        if not sum(len(wholes) + len(windows) for wholes, windows in others):
            continue
        other_readings = iter(read_batches(
            model, np.concatenate([v for pair in others for v in pair]), beam_width))
        for index, (wholes, windows) in zip(chosen, others):
            whole_readings = [next(other_readings) for _ in wholes]
            window_readings = [next(other_readings) for _ in windows]
            readings[index] = best_other_reading(readings[index], whole_readings,
                                                 window_readings)
    return readings


def read_batches(model, views, beam_width):
    """Views (n, height, width), a batch at a time -> [Reading]."""
    alphabet, readings = model.config.alphabet, []
    for start in range(0, len(views), model.batch_size):
        probs = model.probabilities(network_input(views[start:start + model.batch_size]))
        readings.extend(Reading(alphabet.decode(classes), confidence)
                        for classes, confidence in ctc.decode(probs, beam_width))
    return readings


def score(truths, texts):
    """Truth and read texts -> (exact-match accuracy, LCS accuracy, the five most common
    misreadings as ((true character, read character), count))."""
    pairs = list(zip(truths, texts))
    confusions = Counter((a, b) for truth, text in pairs if len(truth) == len(text)
                         for a, b in zip(truth, text) if a != b)
    return exact_match(pairs), lcs_accuracy(pairs), confusions.most_common(5)

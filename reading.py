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

import ctc
from cli import non_negative_int, positive_int, progress, use_every_core
from ctc_metrics import exact_match, lcs_accuracy
from image_conversion import network_input, read_image, soften
from model_config import SHIPPED_EPOCH, SHIPPED_PREFIX


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
                             "(soft_view) and cut to where the text is (crop_view): the "
                             "shipped model's do (README, \"More views\")")


def checkpoint_of(args):
    """(prefix, epoch) the options name; the shipped model's for what is not given."""
    return (SHIPPED_PREFIX if args.prefix is None else args.prefix,
            SHIPPED_EPOCH if args.epoch is None else args.epoch)


def load_model(args, batch_size):
    """The model the options of add_model_arguments name. Raises ValueError."""
    if args.onnx:
        if args.prefix is not None or args.epoch is not None:
            raise ValueError("give --onnx FILE or --prefix/--epoch, not both")
        from onnx_reader import ONNXModel
        return ONNXModel(args.onnx, batch_size)
    use_every_core()  # a reader has the machine to itself; must come before mxnet's import
    try:
        from mxnet_reader import MXNetModel
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


def read_files(paths, conversion, with_text_part=False):
    """Read every file it can -> (paths read, views (n, k, height, width) uint8, error
    messages): each image's views (Conversion.views)."""
    good, views, errors = [], [], []
    for path in paths:
        try:
            views.append(conversion.views(read_image(path), with_text_part))
            good.append(path)
        except ValueError as err:
            errors.append(str(err))
    empty = np.zeros((0, 1 + with_text_part, conversion.height, conversion.width), np.uint8)
    return good, np.stack(views) if views else empty, errors


# Another view's reading replaces the first view's only when it is this many times as
# confident. Chosen on draws kept apart from the test sets (README, "More views"): with a
# factor of 1, 1.5 and 2 the shipped model read 300 `hatched` captchas through a blurred
# second view at 73.0 % each time (0.7 % with one view), and 1,000 plain ones in unseen
# fonts at 91.4, 93.6 and 93.7 % (93.8 % with one view).
OTHER_VIEW_ODDS = 2.0


def reads_text_part(config, one_view=False):
    """Whether images are converted for a model with the view of their text part too
    (Conversion.views): where its settings say so (hp.crop_view), unless `one_view`."""
    return config.hp.crop_view and not one_view


def is_unsure(reading):
    """Whether another view's reading could replace this one: only one less sure than
    1 / OTHER_VIEW_ODDS can be beaten that many times over, confidences being probabilities."""
    return reading.confidence * OTHER_VIEW_ODDS < 1


def read_views(model, views, beam_width=0, one_view=False):
    """Views (n, height, width), or (n, k, height, width) with other views of each image
    after its first (Conversion.views) -> [Reading]. Greedy decoding, or prefix beam search
    keeping `beam_width` prefixes.

    Unless `one_view`, the other views are read too, and so is the first view blurred where
    the model's settings name a soft view (hp.soft_view); the most confident of those
    readings replaces the first view's where it is OTHER_VIEW_ODDS times as confident.
    Only images whose first reading is unsure (is_unsure) are read again: the others'
    readings could not be replaced."""
    views = np.asarray(views)
    if views.ndim == 3:
        views = views[:, None]
    first, sigma = views[:, 0], model.config.hp.soft_view
    readings = read_batches(model, first, beam_width)
    if one_view or (views.shape[1] == 1 and not sigma):
        return readings
    unsure = [i for i, r in enumerate(readings) if is_unsure(r)]
    if not unsure:
        return readings
    others = list(views[unsure, 1:].swapaxes(0, 1))
    if sigma:
        others.append(soften(first[unsure], sigma))
    other_readings = read_batches(model, np.concatenate(others), beam_width)
    for place, index in enumerate(unsure):
        best = max(other_readings[place::len(unsure)], key=lambda r: r.confidence)
        if best.confidence > OTHER_VIEW_ODDS * readings[index].confidence:
            readings[index] = best
    return readings


def read_batches(model, views, beam_width):
    """Views (n, height, width), a batch at a time -> [Reading]."""
    starts = range(0, len(views), model.batch_size)
    if len(starts) > 1:
        starts = progress(starts, len(starts), "batches read")
    alphabet, readings = model.config.alphabet, []
    for start in starts:
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

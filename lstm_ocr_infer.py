"""Read the digits in captcha images with a trained LSTM-OCR checkpoint.

    python lstm_ocr_infer.py --prefix ocr --epoch 100 sample.jpg
    Digits: [0, 0, 8, 9]

The checkpoint is loaded with mx.model.load_checkpoint; its training head (CTC loss) is cut
off at `pred_fc` and replaced by a softmax, and the result is bound as an inference Module.
Images of any size or colour are converted exactly as in training (captcha_generator.py).
Several images (or folders of them) are read in batches; each line is then prefixed with
the image's path. `--json` prints one JSON object per image instead, with the probability
of the digits read; `--beam N` decodes with prefix beam search instead of greedily.
`--eval DIR` scores the model on a labelled folder.
"""
import json
import os
import re
import sys
from collections import Counter

from cli import Parser, fail, non_negative_int, positive_int, progress, use_every_core

use_every_core()  # inference has the machine to itself; must come before mxnet's import

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import COLUMN_HEIGHT, SEQ_LENGTH, read_image
from ctc_metrics import beam_decode, exact_match, greedy_decode, lcs_accuracy
from warpctc import ctc_log_likelihood


IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.pgm', '.ppm')
BATCH_SIZE = 256
SHIPPED_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'model', 'ocr')


def parse_args():
    parser = Parser(description="Read the digits in captcha images with a trained checkpoint.")
    parser.add_argument('images', nargs='*', metavar='IMAGE',
                        help="image files, or folders of them, to read")
    parser.add_argument('--prefix', default=SHIPPED_MODEL,
                        help="checkpoint prefix; the default is the model shipped in model/")
    parser.add_argument('--epoch', type=positive_int, default=30, help="checkpoint epoch")
    parser.add_argument('--beam', type=non_negative_int, default=0, metavar='N',
                        help="decode with CTC prefix beam search keeping N prefixes; "
                             "0 = greedy (best class per step)")
    parser.add_argument('--json', action='store_true',
                        help="print one JSON object per image: path, digits, text, confidence")
    parser.add_argument('--eval', metavar='DIR',
                        help="score the model on a folder of images whose names start with "
                             "their digits, e.g. 0089_17.png (captcha_generator.py --count)")
    args = parser.parse_args()
    if not args.images and args.eval is None:
        parser.error("give IMAGE files or folders to read, or --eval DIR")
    return args


def image_files(path):
    """A file -> [file]; a folder -> its image files, sorted. Raises ValueError if none."""
    if not os.path.isdir(path):
        return [path]
    files = sorted(os.path.join(path, f) for f in os.listdir(path)
                   if f.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {path!r}")
    return files


def load_inference_model(prefix, epoch):
    """Checkpoint -> (softmax symbol, arg_params, aux_params, initial-state input names)."""
    for path in (f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"):
        if not os.path.isfile(path):
            raise ValueError(f"checkpoint file {path!r} not found: check --prefix and --epoch")
    try:
        symbol, arg_params, aux_params = mx.model.load_checkpoint(prefix, epoch)
    except mx.base.MXNetError:
        raise ValueError(f"checkpoint {prefix}-{epoch:04d} is unreadable (truncated or not "
                         "an MXNet checkpoint): retrain or pick another --epoch")
    if 'pred_fc_output' not in symbol.get_internals().list_outputs():
        raise ValueError(f"{prefix}-symbol.json has no 'pred_fc' layer: not an LSTM-OCR model")
    softmax = lstm.add_softmax(symbol.get_internals()['pred_fc_output'])
    state_names = [name for name in softmax.list_arguments()
                   if name != 'data' and name not in arg_params]
    return softmax, arg_params, aux_params, state_names


class Reader:
    """A bound inference Module for batches of `batch_size` images."""

    def __init__(self, prefix, epoch, batch_size, context=mx.cpu()):
        softmax, arg_params, aux_params, state_names = load_inference_model(prefix, epoch)
        self.batch_size = batch_size
        self.module = mx.mod.Module(softmax, data_names=['data'] + state_names,
                                    label_names=None, context=context)
        try:
            # an initial state l0_rev_init_c is as wide as layer l0's h2h weight
            self.states = [mx.nd.zeros((batch_size,
                                        arg_params[f"{name.split('_')[0]}_h2h_weight"].shape[1]))
                           for name in state_names]
            self.module.bind(data_shapes=[('data', (batch_size, SEQ_LENGTH, COLUMN_HEIGHT))]
                             + [(n, s.shape) for n, s in zip(state_names, self.states)],
                             for_training=False)
            self.module.set_params(arg_params, aux_params)
        except (mx.base.MXNetError, RuntimeError, ValueError, AssertionError, KeyError):
            raise ValueError(f"checkpoint {prefix}-{epoch:04d} does not fit this network "
                             "(parameters of another shape): was it trained by lstm_ocr_train.py?")

    def read(self, images, beam_width=0):
        """(n, 80, 30) images -> [(digits, confidence)], n <= batch_size. Greedy decoding, or
        prefix beam search with beam_width > 0; confidence is the probability the network
        gives the decoded sequence, summed over all its alignments."""
        batch = np.zeros((self.batch_size,) + images.shape[1:], dtype=np.float32)
        batch[:len(images)] = images
        self.module.forward(mx.io.DataBatch([mx.nd.array(batch)] + self.states), is_train=False)
        prob = self.module.get_outputs()[0].asnumpy()
        steps = len(prob) // self.batch_size
        log_probs = np.log(np.maximum(prob.reshape(steps, self.batch_size, -1)[:, :len(images)],
                                      1e-30)).astype(np.float64)
        if beam_width:
            decoded = [beam_decode(log_probs[:, n], beam_width) for n in range(len(images))]
        else:
            decoded = greedy_decode(log_probs.reshape(-1, log_probs.shape[-1]), steps)
        padded = np.zeros((len(decoded), max(map(len, decoded), default=0)), dtype=np.int64)
        for row, classes in zip(padded, decoded):
            row[:len(classes)] = classes
        confidence = np.exp(ctc_log_likelihood(log_probs, padded))
        return [([c - 1 for c in classes], float(p)) for classes, p in zip(decoded, confidence)]


def read_images(paths):
    """Read every file it can -> (paths read, (n, 80, 30) images, error messages)."""
    good, images, errors = [], [], []
    for path in paths:
        try:
            images.append(read_image(path))
            good.append(path)
        except ValueError as err:
            errors.append(str(err))
    return good, np.stack(images) if images else None, errors


def read_digits(reader, images, beam_width=0):
    """All images, a batch at a time -> [(digits, confidence)]."""
    starts = range(0, len(images), reader.batch_size)
    if len(starts) > 1:
        starts = progress(starts, len(starts), "batches read")
    results = []
    for start in starts:
        results.extend(reader.read(images[start:start + reader.batch_size], beam_width))
    return results


def print_results(paths, results, as_json, prefix_path):
    for path, (digits, confidence) in zip(paths, results):
        if as_json:
            print(json.dumps({'path': path, 'digits': digits,
                              'text': ''.join(map(str, digits)),
                              'confidence': round(confidence, 4)}))
        else:
            print(f"{path}: Digits: {digits}" if prefix_path else f"Digits: {digits}")


def true_digits(path):
    """'0089_17.png' -> [0, 0, 8, 9]; None when the name does not start with digits."""
    match = re.match(r'\d+', os.path.basename(path))
    return [int(d) for d in match.group()] if match else None


def evaluate(paths, predictions):
    """Print exact-match and LCS accuracy and the digits most often read as others."""
    truths = [true_digits(path) for path in paths]
    pairs = [(t, p) for t, p in zip(truths, predictions) if t is not None]
    for path, truth in zip(paths, truths):
        if truth is None:
            print(f"error: {path!r} has no leading digits to score against", file=sys.stderr)
    if not pairs:
        fail("no image in the folder is named after its digits (e.g. 0089_17.png)")
    confusions = Counter((a, b) for t, p in pairs if len(t) == len(p)
                         for a, b in zip(t, p) if a != b)
    print(f"images: {len(pairs)}")
    print(f"exact-match accuracy: {exact_match(pairs):.4f}")
    print(f"LCS accuracy: {lcs_accuracy(pairs):.4f}")
    confused = ', '.join(f"{a}->{b} x{n}" for (a, b), n in confusions.most_common(5))
    print(f"most confused (true->read): {confused or 'none'}")
    return len(pairs) == len(paths)


def main():
    args = parse_args()
    try:
        paths = [f for path in (args.images or [args.eval]) for f in image_files(path)]
    except ValueError as err:
        fail(err)
    good, images, errors = read_images(paths)
    if not good:
        fail(errors[0] if len(errors) == 1 else f"none of the {len(paths)} images could be read")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    try:
        reader = Reader(args.prefix, args.epoch, batch_size=min(len(images), BATCH_SIZE))
    except ValueError as err:
        fail(err)
    results = read_digits(reader, images, args.beam)
    if args.eval:
        all_scored = evaluate(good, [digits for digits, _ in results])
    else:
        print_results(good, results, args.json, prefix_path=len(paths) > 1)
        all_scored = True
    if len(good) < len(paths) or not all_scored:
        sys.exit(1)


if __name__ == '__main__':
    main()

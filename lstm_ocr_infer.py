"""Read the digits in captcha images with a trained LSTM-OCR checkpoint.

    python lstm_ocr_infer.py --prefix ocr --epoch 100 sample.jpg
    Digits: [0, 0, 8, 9]

The checkpoint is loaded with mx.model.load_checkpoint; its training head (CTC loss) is cut
off at `pred_fc` and replaced by a softmax, and the result is bound as an inference Module.
Images of any size or colour are converted exactly as in training (captcha_generator.py).
Several images (or folders of them) are read in batches; each line is then prefixed with
the image's path. `--eval DIR` scores the model on a labelled folder instead.
"""
import os
import re
import sys
from collections import Counter

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import COLUMN_HEIGHT, SEQ_LENGTH, read_image
from cli import Parser, fail, positive_int
from ctc_metrics import exact_match, greedy_decode, lcs_accuracy


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
        num_hidden = {name: arg_params[f"{name.split('_')[0]}_h2h_weight"].shape[1]
                      for name in state_names}
        self.batch_size = batch_size
        self.states = [mx.nd.zeros((batch_size, num_hidden[name])) for name in state_names]
        self.module = mx.mod.Module(softmax, data_names=['data'] + state_names,
                                    label_names=None, context=context)
        self.module.bind(data_shapes=[('data', (batch_size, SEQ_LENGTH, COLUMN_HEIGHT))]
                         + [(n, s.shape) for n, s in zip(state_names, self.states)],
                         for_training=False)
        try:
            self.module.set_params(arg_params, aux_params)
        except (mx.base.MXNetError, ValueError, AssertionError):
            raise ValueError(f"checkpoint {prefix}-{epoch:04d} does not fit this network "
                             "(parameters of another shape): was it trained by lstm_ocr_train.py?")

    def read(self, images):
        """(n, 80, 30) images -> list of digit lists, n <= batch_size."""
        batch = np.zeros((self.batch_size,) + images.shape[1:], dtype=np.float32)
        batch[:len(images)] = images
        self.module.forward(mx.io.DataBatch([mx.nd.array(batch)] + self.states), is_train=False)
        prob = self.module.get_outputs()[0].asnumpy()
        return [[c - 1 for c in classes] for classes in greedy_decode(prob, SEQ_LENGTH)][:len(images)]


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


def read_digits(reader, images):
    digits = []
    for start in range(0, len(images), reader.batch_size):
        digits.extend(reader.read(images[start:start + reader.batch_size]))
    return digits


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
    predictions = read_digits(reader, images)
    if args.eval:
        all_scored = evaluate(good, predictions)
    else:
        for path, digits in zip(good, predictions):
            print(f"Digits: {digits}" if len(paths) == 1 else f"{path}: Digits: {digits}")
        all_scored = True
    if len(good) < len(paths) or not all_scored:
        sys.exit(1)


if __name__ == '__main__':
    main()

"""Read the text in captcha images with a trained LSTM-OCR checkpoint.

    python lstm_ocr_infer.py --prefix ocr --epoch 100 sample.jpg
    Digits: [0, 0, 8, 9]

The checkpoint is loaded with mx.model.load_checkpoint; its training head (CTC loss) is cut
off at `pred_fc` and replaced by a softmax, and the result is bound as an inference Module.
Its settings file (PREFIX-config.json) says how images are converted and which alphabet it
reads: a digit model prints `Digits: [...]`, any other `Text: ...`. Several images (or
folders of them) are read in batches; each line is then prefixed with the image's path.
`--json` prints one JSON object per image instead, with the probability of the text read;
`--beam N` decodes with prefix beam search instead of greedily. `--eval PATH` scores the
model on a labelled folder or labels file. `--onnx FILE` reads with an exported model
(export_onnx.py) through ONNX Runtime instead, and never imports MXNet. An image that cannot
be read (not an image, cut off, unreadable, or past the decoding gate's size limits) is
named on stderr and the others are still read; the exit code is then 1.
"""
import json
import os
import sys

from common.cli import Parser, fail, progress
from common.image_conversion import LIMITS, read_image
from common.labelled_files import image_files, labelled_files
from reader.reading import (
    LazyImages,
    add_model_arguments,
    add_reading_arguments,
    load_model,
    read_files,
    read_views,
    reading_record,
    score,
)

BATCH_SIZE = 256
CHUNK_SIZE = 4 * BATCH_SIZE  # images decoded and read at a time (about 10 MB of views)


def parse_args():
    parser = Parser(description="Read the text in captcha images with a trained checkpoint.")
    parser.add_argument('images', nargs='*', metavar='IMAGE',
                        help=f"image files, or folders of them, to read: each {LIMITS}")
    add_model_arguments(parser)
    add_reading_arguments(parser)
    parser.add_argument('--json', action='store_true',
                        help="print one JSON object per image: path, text (digits for a digit "
                             "model), confidence")
    parser.add_argument('--eval', metavar='PATH',
                        help="score the model on a folder of images named after their text "
                             "(e.g. 0089_17.png, from captcha_generator.py --count) or a "
                             "labels file (path,text lines)")
    args = parser.parse_args()
    if not args.images and args.eval is None:
        parser.error("give IMAGE files or folders to read, or --eval PATH")
    return args


def chunks(paths):
    """The paths CHUNK_SIZE at a time, with a progress bar if there is more than one chunk:
    a chunk's images are decoded, read and printed before the next, so a folder of any size
    fits in memory."""
    starts = range(0, len(paths), CHUNK_SIZE)
    if len(starts) > 1:
        starts = progress(starts, len(starts), f"chunks of {CHUNK_SIZE} images read")
    for start in starts:
        yield paths[start:start + CHUNK_SIZE]


def print_readings(paths, readings, alphabet, as_json, with_path):
    for path, reading in zip(paths, readings):
        if as_json:
            print(json.dumps({'path': path, **reading_record(reading, alphabet)}))
            continue
        text = reading.text
        said = f"Digits: {[int(d) for d in text]}" if alphabet.is_digits else f"Text: {text}"
        print(f"{path}: {said}" if with_path else said)


def truths_of(paths, labels, alphabet):
    """The labels the model could read (folded to its case) -> (paths, truths); the rest is
    reported on stderr."""
    kept = []
    for path, text in zip(paths, labels):
        folded = alphabet.fold(text)
        if folded and all(c in alphabet.index for c in folded):
            kept.append((path, folded))
        else:
            print(f"error: {path!r} is labelled {text!r}, which the model's alphabet "
                  f"{alphabet.chars!r} cannot spell: not scored", file=sys.stderr)
    return [p for p, _ in kept], [t for _, t in kept]


def print_score(truths, texts):
    exact, lcs, confused = score(truths, texts)
    print(f"images: {len(truths)}")
    print(f"exact-match accuracy: {exact:.4f}")
    print(f"LCS accuracy: {lcs:.4f}")
    listed = ', '.join(f"{a}->{b} x{n}" for (a, b), n in confused)
    print(f"most confused (true->read): {listed or 'none'}")


def main():
    args = parse_args()
    try:
        if args.eval:
            paths, labels = zip(*labelled_files(args.eval))
        else:
            paths = [f for path in args.images
                     for f in (image_files(path) if os.path.isdir(path) else [path])]
        model = load_model(args, min(len(paths), BATCH_SIZE))
    except ValueError as err:
        fail(err)
    except OSError as err:  # a folder or labels file this user may not read
        fail(f"cannot read {err.filename!r}: {err.strerror}")
    alphabet = model.config.alphabet
    if args.eval:
        paths, truths = truths_of(paths, labels, alphabet)
        if not paths:
            fail("no image is labelled with text the model can read")
    good, texts, errors = [], [], []
    for chunk in chunks(paths):
        chunk_good, views, chunk_errors = read_files(chunk, model.config.conversion)
        readings = read_views(model, views, args.beam, args.one_view,
                              LazyImages(chunk_good, read_image))
        if not args.eval:
            print_readings(chunk_good, readings, alphabet, args.json, with_path=len(paths) > 1)
        good.extend(chunk_good)
        texts.extend(r.text for r in readings)
        errors.extend(chunk_errors)
    if not good:
        fail(errors[0] if len(errors) == 1 else f"none of the {len(paths)} images could be read")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if args.eval:
        truth_of = dict(zip(paths, truths))
        print_score([truth_of[path] for path in good], texts)
    if errors or (args.eval and len(truths) < len(labels)):
        sys.exit(1)


if __name__ == '__main__':
    try:
        main()
    except BrokenPipeError:  # the reader of our output (e.g. `| head`) has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)

"""Random CAPTCHAs for the LSTM-OCR example: text of any alphabet and length range, drawn by
the `captcha` package and converted to the network's view.

A captcha is drawn full size (160x60) by the `captcha` package and turned into the network's
view by the model's input conversion (image_conversion.py); its text is encoded for the
alphabet (alphabet.py). `TextCaptcha` draws in this process; `MPCaptcha` has worker
processes draw whole batches (multiproc_data.py). This module does not import mxnet, so
workers start quickly.

Run as a script it writes one captcha the way a person sees it, a labelled folder of them,
or a RecordIO dataset to train from:

    python captcha_generator.py font/DroidSansMono.ttf sample.jpg --text 0089
    python captcha_generator.py font/ --count 1000 --out data/test/
    python captcha_generator.py font/ --count 50000 --rec data/train.rec --seed 1
    python captcha_generator.py font/ --charset 0-9A-Z --length 4-6 --count 100 --out data/az
"""
import os
import random

import cv2
import numpy as np

from common.alphabet import DIGITS, Alphabet
from common.captcha_styles import CAPTCHA_NOISE, STYLES, Drawer
from common.cli import Parser, charset, fail, length_range, positive_int, progress
from common.fonts import find_fonts
from common.image_conversion import Conversion
from multiproc_data import MPData


class TextCaptcha:
    """Random texts of `length` = (fewest, most) characters of `alphabet`, drawn as captchas
    of `style` (captcha_styles.py).

    `seed` makes the sequence of captchas reproducible: each seeded sample re-seeds the
    captcha package's noise and the style's knobs from this object's own generator, so two
    seeded TextCaptchas used in turn do not disturb each other. The first `plain_first`
    captchas are drawn plain, whatever the style."""

    def __init__(self, font_paths, alphabet=Alphabet(), length=(3, 4), num_label=4,
                 conversion=Conversion(), seed=None, style='plain', plain_first=0):
        self.drawer = Drawer(font_paths, style)
        self.plain_left = plain_first
        self.alphabet, self.length, self.num_label = alphabet, length, num_label
        self.conversion = conversion
        self.seeded = seed is not None
        self.rng = random.Random(seed)
        self.style_rng = np.random.default_rng(seed)

    def random_text(self):
        size = self.rng.randint(*self.length)
        return ''.join(self.rng.choice(self.alphabet.chars) for _ in range(size))

    def draw(self, text):
        """`text` as a captcha, BGR uint8, as a person sees it; seeded objects also seed its
        noise and style."""
        if self.seeded:  # one number seeds both, so plain captchas are drawn as they always were
            noise_seed = self.rng.getrandbits(64)
            CAPTCHA_NOISE.seed(noise_seed)
            self.style_rng = np.random.default_rng(noise_seed)
        plain = self.plain_left > 0
        self.plain_left -= plain
        return self.drawer.draw(text, self.style_rng, plain)

    def get(self):
        """One sample: (the network's view, uint8 (height, width), its text)."""
        text = self.random_text()
        return self.conversion.view(self.draw(text)), text

    def get_batch(self, batch_size):
        """-> (views (n, height, width) uint8, labels (n, num_label) float32)."""
        conversion = self.conversion
        views = np.empty((batch_size, conversion.height, conversion.width), dtype=np.uint8)
        labels = np.empty((batch_size, self.num_label), dtype=np.float32)
        for i in range(batch_size):
            views[i], text = self.get()
            labels[i] = self.alphabet.encode(text, self.num_label)
        return views, labels


class BatchMaker:
    """Picklable recipe for a TextCaptcha that each worker process builds for itself."""

    def __init__(self, batch_size, seed=None, **captcha_args):
        self.batch_size, self.seed, self.captcha_args = batch_size, seed, captcha_args
        self.captcha = None

    def __call__(self, worker_id):
        if self.captcha is None:
            seed = None if self.seed is None else self.seed * 1000 + worker_id
            self.captcha = TextCaptcha(seed=seed, **self.captcha_args)
        return self.captcha.get_batch(self.batch_size)


class MPCaptcha:
    """TextCaptcha whose batches are drawn by `num_processes` worker processes, the first
    `plain_first` captchas (shared among them) plain. `on_wait` is called while the trainer
    waits for a batch (multiproc_data.MPData)."""

    def __init__(self, font_paths, alphabet=Alphabet(), length=(3, 4), num_label=4,
                 conversion=Conversion(), style='plain', num_processes=1, max_queue_size=8,
                 batch_size=128, seed=None, on_wait=None, plain_first=0):
        self.batch_size = batch_size
        maker = BatchMaker(batch_size, seed, font_paths=font_paths, alphabet=alphabet,
                           length=length, num_label=num_label, conversion=conversion,
                           style=style, plain_first=-(-plain_first // num_processes))
        batch_arrays = [((batch_size, conversion.height, conversion.width), np.uint8),
                        ((batch_size, num_label), np.float32)]
        self.mp_data = MPData(num_processes, max_queue_size, maker, arrays=batch_arrays,
                              on_wait=on_wait)

    def start(self):
        self.mp_data.start()

    def reset(self):
        self.mp_data.reset()

    def get_batch(self, batch_size):
        """The next batch any worker finished: (views, labels) as TextCaptcha.get_batch."""
        if batch_size != self.batch_size:
            raise ValueError(f"workers draw batches of {self.batch_size}, not {batch_size}")
        return self.mp_data.get()


def encoded(captcha, count):
    """`count` random captchas as (PNG bytes of the image as drawn, text)."""
    for _ in range(count):
        text = captcha.random_text()
        yield cv2.imencode('.png', captcha.draw(text))[1].tobytes(), text


def write_labelled_folder(captcha, count, folder):
    """`count` captchas as files `<text>_<index>.png` in `folder`. Raises ValueError."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot create folder {folder!r}: {err.strerror}")
    for index, (data, text) in enumerate(progress(encoded(captcha, count), count,
                                                  f"Writing captchas to {folder}")):
        write_file(os.path.join(folder, f"{text}_{index}.png"), data)


def write_file(path, data):
    try:
        with open(path, 'wb') as f:
            f.write(data)
    except OSError as err:
        raise ValueError(f"cannot write {path!r}: {err.strerror}")


def parse_args():
    parser = Parser(description="Write random captchas: one, full size, to OUTPUT; or --count "
                                "of them into --out DIR, named <text>_<index>.png; or --count "
                                "of them into a RecordIO dataset --rec FILE (with its index "
                                "FILE.idx) for lstm_ocr_train.py --train_data/--val_data.")
    parser.add_argument('font_path', help="a .ttf font file, or a folder of them")
    parser.add_argument('output', nargs='?', help="image file to write (.jpg, .png, ...)")
    parser.add_argument('--text', '--num', dest='text',
                        help="text to draw, e.g. 0089 (default: random, see --charset and "
                             "--length)")
    parser.add_argument('--charset', type=charset, default=DIGITS,
                        help="characters to draw from; ranges allowed, e.g. 0-9A-Z")
    parser.add_argument('--length', type=length_range, default=(3, 4), metavar='N or N-M',
                        help="characters per captcha (default: 3-4)")
    parser.add_argument('--style', choices=STYLES, default='plain',
                        help="how captchas look: 'plain' (the captcha package's own), 'robust' "
                             "(its glyphs on random canvases, colours, backgrounds, lines "
                             "and noise), or one of the fixed looks of other generators "
                             "(captcha_styles.py)")
    parser.add_argument('--count', type=positive_int, help="write this many labelled captchas")
    parser.add_argument('--out', help="folder for --count captchas (created if missing)")
    parser.add_argument('--rec', help="RecordIO file for --count captchas (.rec)")
    parser.add_argument('--seed', type=int, help="random seed for the texts and the noise")
    args = parser.parse_intermixed_args()
    if (args.output is None) == (args.count is None):
        parser.error("give either OUTPUT, or --count N with --out DIR or --rec FILE")
    if args.count is not None and ((args.out is None) == (args.rec is None)
                                   or args.text is not None):
        parser.error("--count needs one of --out DIR or --rec FILE, and draws random text "
                     "(no --text)")
    if args.out is not None and {'_', '/', os.sep} & set(args.charset):
        parser.error("--out names files after their text, so --charset cannot have '_' or "
                     "'/': use --rec")
    if args.text is not None and (not args.text or set(args.text) - set(args.charset)):
        parser.error(f"--text must be characters of --charset {args.charset!r} (got "
                     f"{args.text!r})")
    return args


def main():
    args = parse_args()
    try:
        fonts = find_fonts(args.font_path, args.charset if args.text is None else args.text)
        captcha = TextCaptcha(fonts, Alphabet(args.charset), args.length, seed=args.seed,
                              style=args.style)
        if args.rec is not None:
            from common import (
                datasets,  # here only: worker processes import this module and need no MXNet
            )
            datasets.write_records(args.rec, encoded(captcha, args.count), args.count,
                                   f"Writing captchas to {args.rec}")
            print(f"{args.count} captchas written to {args.rec}")
        elif args.count is not None:
            write_labelled_folder(captcha, args.count, args.out)
            print(f"{args.count} labelled captchas written to {args.out}")
        else:
            text = args.text if args.text is not None else captcha.random_text()
            write_file(args.output, encode_as(args.output, captcha.draw(text)))
            said = (f"digits {[int(d) for d in text]}" if text.isdigit() and text.isascii()
                    else f"text {text!r}")
            print(f"Captcha image with {said} written to {args.output}")
    except ValueError as err:
        fail(err)


def encode_as(path, image):
    """A BGR image as the bytes of an image file of the type `path` names."""
    suffix = os.path.splitext(path)[1].lower() or '.png'
    try:
        return cv2.imencode(suffix, image)[1].tobytes()
    except cv2.error:
        raise ValueError(f"cannot write {path!r}: give a .png, .jpg or .bmp file name")


if __name__ == '__main__':
    main()

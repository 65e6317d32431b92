"""Random digit CAPTCHAs for the LSTM-OCR example.

A captcha is drawn full size (160x60) by the `captcha` package, then turned into the
network's input by `image_to_sequence`: grayscale, shrunk to 80 wide x 30 high, scaled to
[0, 1] and transposed so that row t is pixel column t -- the LSTM reads the image left to
right, one 30-pixel column per time step. `encode_label` turns a digit string into the
CTC label vector (digit + 1, 0 = padding and blank). Both are the only copies of that
logic: the iterator, training and inference import them from here.

This module does not import mxnet, so generator worker processes start quickly.

Run as a script it writes one captcha the way a person sees it, a labelled folder of them,
or a RecordIO dataset to train from:

    python captcha_generator.py font/DroidSansMono.ttf sample.jpg --num 0089
    python captcha_generator.py font/ --count 1000 --out data/test/
    python captcha_generator.py font/ --count 50000 --rec data/train.rec --seed 1
"""
import os
import random

import captcha.image
import cv2
import numpy as np
from captcha.image import ImageCaptcha
from PIL import ImageFont

from cli import Parser, fail, positive_int, progress
from multiproc_data import MPData

CAPTCHA_WIDTH, CAPTCHA_HEIGHT = 160, 60  # what the captcha package draws
SEQ_LENGTH, COLUMN_HEIGHT = 80, 30       # what the network reads: 80 columns of 30 pixels
FONT_SUFFIXES = ('.ttf', '.otf')
cv2.setLogLevel(0)  # silent: read_image reports unreadable files itself


class SeedableSecrets(random.Random):
    """What captcha.image uses of the `secrets` module, from a generator that can be seeded.

    captcha 0.7 draws its noise with `secrets`, which cannot be seeded; without this a
    validation set or a `--seed` run could not be drawn twice alike. Unseeded, it starts
    from os.urandom like any random.Random, so unseeded captchas stay unpredictable."""

    def randbelow(self, n):
        return self.randrange(n)

    def randbits(self, k):
        return self.getrandbits(k)


CAPTCHA_NOISE = SeedableSecrets()
captcha.image.secrets = CAPTCHA_NOISE


def shrink(gray):
    """Grayscale image (H, W) of any size -> (30, 80), same dtype, by pixel-area averaging."""
    if gray.shape == (COLUMN_HEIGHT, SEQ_LENGTH):
        return gray
    return cv2.resize(gray, (SEQ_LENGTH, COLUMN_HEIGHT), interpolation=cv2.INTER_AREA)


def image_to_sequence(gray):
    """Grayscale image (H, W) of any size, uint8 or uint16 -> float32 (80, 30) in [0, 1]."""
    scale = 65535.0 if gray.dtype == np.uint16 else 255.0
    return (shrink(gray).astype(np.float32) / scale).T.copy()


def read_image(path):
    """Any image file -> the network's (80, 30) view of it. Raises ValueError if unreadable."""
    if not os.path.isfile(path):
        raise ValueError(f"image {path!r} not found")
    with open(path, 'rb') as f:
        data = f.read()
    if not data:
        raise ValueError(f"image {path!r} is an empty file")
    # OpenCV decodes a cut-off JPEG without complaint, greying out the missing part
    if data[:2] == b'\xff\xd8' and data.rstrip(b'\0 \t\r\n')[-2:] != b'\xff\xd9':
        raise ValueError(f"image {path!r} is a truncated JPEG: copy or download it again")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot read image {path!r}: give a JPEG, PNG, BMP or TIFF file")
    if image.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        image = cv2.cvtColor(image, code)
    return image_to_sequence(image)


def pil_to_gray(image):
    return np.asarray(image.convert('L'))


def pil_to_sequence(image):
    """A PIL image -> the network's view, straight to numpy (no PNG encode/decode)."""
    return image_to_sequence(pil_to_gray(image))


def encode_label(digits, num_label):
    """'089' -> [1, 9, 10, 0]: digit d is class d + 1; class 0 is the CTC blank and padding."""
    label = np.zeros(num_label, dtype=np.float32)
    for i, ch in enumerate(digits):
        label[i] = int(ch) + 1
    return label


def find_fonts(path):
    """A .ttf file, or a folder of them -> sorted list of font paths. Raises ValueError."""
    if os.path.isdir(path):
        fonts = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.lower().endswith(FONT_SUFFIXES))
        if not fonts:
            raise ValueError(f"no .ttf font files in folder {path!r}: add one "
                             "(see README, 'Fonts')")
    elif os.path.isfile(path):
        fonts = [path]
    else:
        raise ValueError(f"font path {path!r} does not exist: give a .ttf file or a folder of them")
    for font in fonts:
        if not draws_every_digit(font):
            raise ValueError(f"{font!r} is not a readable TrueType font with the digits 0-9: "
                             "replace or remove it")
    return fonts


def draws_every_digit(font_path):
    """False for a file FreeType cannot read, and for one whose digits come out blank (a
    truncated font can load and still draw nothing)."""
    try:
        font = ImageFont.truetype(font_path, 40)
        return all(font.getmask(digit).getbbox() is not None for digit in '0123456789')
    except OSError:
        return False


class TextBoxes:
    """Stands in for the ImageDraw that ImageCaptcha._draw_character is given, which uses it
    only to measure the character: each (character, font) is measured once."""

    def __init__(self):
        self.draw, self.boxes = None, {}

    def multiline_textbbox(self, xy, text, font):
        key = (xy, text, font)
        if key not in self.boxes:
            self.boxes[key] = self.draw.multiline_textbbox(xy, text, font=font)
        return self.boxes[key]


class MeasuringOnceCaptcha(ImageCaptcha):
    """The captcha package's ImageCaptcha, drawing the same pixels from the same noise
    (tests/test_captcha_generator.py), 8 % faster: measuring every character's box again
    was that much of the drawing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.text_boxes = TextBoxes()

    def _draw_character(self, c, draw, color):
        self.text_boxes.draw = draw
        return super()._draw_character(c, self.text_boxes, color)


class CaptchaGen:
    """Draws a given digit string and returns the network's view of it."""

    def __init__(self, h, w, font_paths):
        self.h, self.w = h, w
        self.captcha = MeasuringOnceCaptcha(width=CAPTCHA_WIDTH, height=CAPTCHA_HEIGHT,
                                            fonts=font_paths)

    def draw(self, digits):
        """Full-size RGB PIL image, as a person sees it."""
        return self.captcha.generate_image(digits)

    def image(self, digits):
        return pil_to_sequence(self.draw(digits))


class DigitCaptcha:
    """Random strings of num_digit_min..num_digit_max digits, drawn as captchas.

    `seed` makes the sequence of captchas reproducible: each seeded sample re-seeds the
    captcha package's noise from this object's own generator, so two seeded DigitCaptchas
    used in turn do not disturb each other."""

    def __init__(self, font_paths, h=COLUMN_HEIGHT, w=SEQ_LENGTH, num_digit_min=3,
                 num_digit_max=4, num_label=4, seed=None):
        self.generator = CaptchaGen(h, w, font_paths)
        self.num_digit_min, self.num_digit_max = num_digit_min, num_digit_max
        self.num_label = num_label
        self.seeded = seed is not None
        self.rng = random.Random(seed)

    @property
    def shape(self):
        return (self.generator.w, self.generator.h)

    def random_digits(self):
        length = self.rng.randint(self.num_digit_min, self.num_digit_max)
        return ''.join(str(self.rng.randint(0, 9)) for _ in range(length))

    def draw(self, digits):
        """`digits` as a full-size PIL captcha; seeded objects also seed its noise."""
        if self.seeded:
            CAPTCHA_NOISE.seed(self.rng.getrandbits(64))
        return self.generator.draw(digits)

    def get(self):
        """One sample: (image (80, 30) float32, digit string)."""
        digits = self.random_digits()
        return pil_to_sequence(self.draw(digits)), digits

    def get_batch(self, batch_size):
        """(images (N, 80, 30) float32, labels (N, num_label) float32)."""
        images = np.empty((batch_size,) + self.shape, dtype=np.float32)
        labels = np.empty((batch_size, self.num_label), dtype=np.float32)
        for i in range(batch_size):
            images[i], digits = self.get()
            labels[i] = encode_label(digits, self.num_label)
        return images, labels


class BatchMaker:
    """Picklable recipe for a DigitCaptcha that each worker process builds for itself."""

    def __init__(self, batch_size, seed=None, **captcha_args):
        self.batch_size, self.seed, self.captcha_args = batch_size, seed, captcha_args
        self.captcha = None

    def __call__(self, worker_id):
        if self.captcha is None:
            seed = None if self.seed is None else self.seed * 1000 + worker_id
            self.captcha = DigitCaptcha(seed=seed, **self.captcha_args)
        return self.captcha.get_batch(self.batch_size)


class MPDigitCaptcha:
    """DigitCaptcha whose batches are drawn by `num_processes` worker processes."""

    def __init__(self, font_paths, h=COLUMN_HEIGHT, w=SEQ_LENGTH, num_digit_min=3,
                 num_digit_max=4, num_label=4, num_processes=1, max_queue_size=8,
                 batch_size=128, seed=None):
        self.shape = (w, h)
        self.batch_size = batch_size
        maker = BatchMaker(batch_size, seed, font_paths=font_paths, h=h, w=w,
                           num_digit_min=num_digit_min, num_digit_max=num_digit_max,
                           num_label=num_label)
        batch_arrays = [((batch_size, w, h), np.float32), ((batch_size, num_label), np.float32)]
        self.mp_data = MPData(num_processes, max_queue_size, maker, arrays=batch_arrays)

    def start(self):
        self.mp_data.start()

    def reset(self):
        self.mp_data.reset()

    def get(self):
        """The next batch any worker finished: (images, labels) as DigitCaptcha.get_batch."""
        return self.mp_data.get()

    def get_batch(self, batch_size):
        if batch_size != self.batch_size:
            raise ValueError(f"workers draw batches of {self.batch_size}, not {batch_size}")
        return self.get()


def parse_args():
    parser = Parser(description="Write random digit captchas: one, full size, to OUTPUT; or "
                                "--count of them into --out DIR, named <digits>_<index>.png; or "
                                "--count of them, as the network sees them (80x30 grayscale), "
                                "into a RecordIO dataset --rec FILE for lstm_ocr_train.py "
                                "--train_rec/--val_rec.")
    parser.add_argument('font_path', help="a .ttf font file, or a folder of them")
    parser.add_argument('output', nargs='?', help="image file to write (.jpg, .png, ...)")
    parser.add_argument('--num', help="digits to draw, e.g. 0089 (default: 3-4 random digits)")
    parser.add_argument('--count', type=positive_int, help="write this many labelled captchas")
    parser.add_argument('--out', help="folder for --count captchas (created if missing)")
    parser.add_argument('--rec', help="RecordIO file for --count captchas (.rec)")
    parser.add_argument('--seed', type=int, help="random seed for the digits and the noise")
    args = parser.parse_args()
    if (args.output is None) == (args.count is None):
        parser.error("give either OUTPUT, or --count N with --out DIR or --rec FILE")
    if args.count is not None and ((args.out is None) == (args.rec is None)
                                   or args.num is not None):
        parser.error("--count needs one of --out DIR or --rec FILE, and draws random digits "
                     "(no --num)")
    if args.num is not None and not (args.num.isdigit() and args.num.isascii()):
        parser.error(f"--num must be digits only, e.g. 0089 (got {args.num!r})")
    return args


def write_captcha(captcha, digits, path):
    try:
        captcha.draw(digits).save(path)
    except (OSError, ValueError) as err:
        fail(f"cannot write {path!r}: {err}")


def write_labelled_folder(captcha, count, folder):
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        fail(f"cannot create folder {folder!r}: {err}")
    for index in progress(range(count), count, f"Writing captchas to {folder}"):
        digits = captcha.random_digits()
        write_captcha(captcha, digits, os.path.join(folder, f"{digits}_{index}.png"))


def write_record_file(captcha, count, path):
    """`count` captchas as MXNet RecordIO: each record's header label is the encoded label,
    its image the network's 80x30 grayscale view as PNG (mx.recordio.pack_img)."""
    import mxnet as mx  # here only: worker processes import this module and need no MXNet
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        record = mx.recordio.MXRecordIO(temporary, 'w')
    except mx.base.MXNetError:
        fail(f"cannot write {path!r}: check that its folder exists and is writable")
    for index in progress(range(count), count, f"Writing captchas to {path}"):
        digits = captcha.random_digits()
        header = mx.recordio.IRHeader(0, encode_label(digits, captcha.num_label), index, 0)
        record.write(mx.recordio.pack_img(header, shrink(pil_to_gray(captcha.draw(digits))),
                                          img_fmt='.png'))
    record.close()
    os.replace(temporary, path)  # an interrupted run leaves no half-written dataset


def main():
    args = parse_args()
    try:
        fonts = find_fonts(args.font_path)
    except ValueError as err:
        fail(err)
    captcha = DigitCaptcha(fonts, seed=args.seed)
    if args.rec is not None:
        write_record_file(captcha, args.count, args.rec)
        print(f"{args.count} captchas written to {args.rec}")
        return
    if args.count is not None:
        write_labelled_folder(captcha, args.count, args.out)
        print(f"{args.count} labelled captchas written to {args.out}")
        return
    digits = args.num if args.num is not None else captcha.random_digits()
    write_captcha(captcha, digits, args.output)
    print(f"Captcha image with digits {[int(d) for d in digits]} written to {args.output}")


if __name__ == '__main__':
    main()

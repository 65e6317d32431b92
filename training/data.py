"""What a training run trains and validates on, in the manner of MXNet's
example/image-classification/common/data.py: fonts to draw captchas with, or labelled
datasets loaded into memory, turned into a training source and a fixed validation set.
"""
import dataclasses
import logging

import numpy as np

from captcha_generator import MPCaptcha, TextCaptcha
from common import datasets
from common.fonts import find_fonts
from ocr_iter import drawn_set

VALIDATION_SEED = 20180101  # the drawn validation captchas are the same in every run
HOLD_OUT_SEED = 20180102    # the same part of a dataset is held out in every run


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where a run's captchas come from, as the command line names them."""
    font_path: str = None
    train_data: str = None
    val_data: str = None
    cache_dir: str = None
    skip_bad: bool = False
    length: tuple = (3, 4)  # characters per drawn captcha

    @property
    def kind(self):
        return 'drawn' if self.train_data is None else 'labelled'

    def draws(self):
        """Whether the run draws captchas: to train on, or to validate on."""
        return self.train_data is None or (self.val_data is None and bool(self.font_path))

    def describe(self):
        """One line: what the run trains and validates on."""
        train = (f"captchas drawn with {self.font_path}" if self.train_data is None
                 else f"labelled images of {self.train_data}")
        if self.val_data is not None:
            val = f"labelled images of {self.val_data}"
        elif self.draws():
            val = "captchas drawn with a fixed seed"
        else:
            val = "a part of the training images held out"
        return f"training on {train}, validating on {val}"


def held_out_count(images, eval_epoch_size):
    """How many of a dataset's images are held out for validation when none is given."""
    return max(1, min(images // 10, eval_epoch_size))


class Data:
    """The loaded data of a run, before its labels are encoded: labelled datasets as
    (views, texts, names), or fonts to draw with."""

    def __init__(self, source, conversion, alphabet):
        self.source, self.fonts, self.train, self.val = source, [], None, None
        if source.draws():
            if not source.font_path:
                raise ValueError("give FONT_PATH, the fonts to draw captchas with, or "
                                 "--train_data")
            self.fonts = find_fonts(source.font_path, alphabet.chars)
        if source.train_data is not None:
            self.train = datasets.load(source.train_data, conversion, source.cache_dir,
                                       source.skip_bad)
        if source.val_data is not None:
            self.val = datasets.load(source.val_data, conversion, source.cache_dir,
                                     source.skip_bad)

    def texts(self):
        return [t for loaded in (self.train, self.val) if loaded for t in loaded[1]]

    def longest_label(self, alphabet):
        drawn = self.source.length[1] if self.train is None else 0
        return max([drawn] + [len(alphabet.fold(t)) for t in self.texts()])

    def holds_out(self):
        """Whether validation is a part of the training images."""
        return self.val is None and not self.fonts

    def images_per_worker(self, eval_epoch_size, rank, num_workers):
        """How many labelled images worker `rank` of `num_workers` trains on."""
        images = len(self.train[1])
        if self.holds_out():
            images -= held_out_count(images, eval_epoch_size)
        return len(range(rank, images, num_workers))


def labelled_set(loaded, config, shuffle=False, augment=False, seed=None):
    views, texts, names = loaded
    labels = datasets.encode_labels(texts, names, config.alphabet, config.num_label,
                                    config.hp.num_steps)
    return datasets.LabelledSet(views, labels, shuffle, augment, seed)


def plain_left(hp, begin_epoch):
    """Of the run's first hp.plain_first captchas drawn plain, those a run resumed after
    `begin_epoch` epochs has still to draw."""
    return max(0, hp.plain_first - begin_epoch * hp.train_epoch_size)


def training_source(settings, data, rank, num_workers, interrupts):
    """Worker processes drawing fresh captchas (each run of workers seeded by its rank), or
    this worker's share of a labelled dataset -> (source, batches per epoch, validation held
    out of the dataset or None)."""
    config, hp = settings.config, settings.config.hp
    seed = None if settings.seed is None else settings.seed + 10007 * rank
    if data.train is None:
        source = MPCaptcha(data.fonts, config.alphabet, data.source.length, config.num_label,
                           config.conversion, hp.style, num_processes=settings.num_proc,
                           max_queue_size=2 * settings.num_proc, batch_size=hp.batch_size,
                           seed=seed, on_wait=interrupts.check,
                           plain_first=plain_left(hp, settings.begin_epoch))
        source.start()
        return source, hp.train_epoch_size // hp.batch_size, None
    train = labelled_set(data.train, config, shuffle=True, augment=hp.augment, seed=seed)
    held_out = None
    if data.holds_out():
        count = held_out_count(len(train), hp.eval_epoch_size)
        train, held_out = train.split(count, HOLD_OUT_SEED)
        logging.info("Holding out %d of %d images of %s for validation (the same ones in "
                     "every run)", count, count + len(train), data.source.train_data)
    if num_workers > 1:
        share = np.arange(rank, len(train), num_workers)
        train = datasets.LabelledSet(train.views[share], train.labels[share], True,
                                     hp.augment, seed)
    if len(train) < hp.batch_size:
        raise ValueError(f"{data.source.train_data!r} gives {len(train)} images to train on, "
                         f"fewer than one batch: lower --batch_size below {hp.batch_size}")
    logging.info("Training on %d images of %s", len(train), data.source.train_data)
    return train, len(train) // hp.batch_size, held_out


def validation_set(config, data, held_out):
    """The fixed validation set: a dataset, the part held out of the training data, or
    eval_epoch_size captchas drawn from VALIDATION_SEED (the same ones in every run)."""
    if data.val is not None:
        return labelled_set(data.val, config)
    if held_out is not None:
        return held_out
    hp = config.hp
    logging.info("Drawing %d validation captchas with %d font(s)", hp.eval_epoch_size,
                 len(data.fonts))
    captcha = TextCaptcha(data.fonts, config.alphabet, data.source.length, config.num_label,
                          config.conversion, seed=VALIDATION_SEED)
    return drawn_set(captcha, hp.eval_epoch_size // hp.batch_size * hp.batch_size)

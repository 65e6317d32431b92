"""The per-epoch training log, PREFIX-log.csv: written by lstm_ocr_train.py after every
validation, read by plot_log.py.

A row: the epoch; the training figures (the epoch's averages: Speedometer does not reset the
metric); the validation figures; the captchas trained on so far; training samples/s; and
minutes since the script started. Figures a run does not compute are left empty.
"""
import csv
import logging
import os
import time

FIGURES = ['accuracy', 'lcs_accuracy', 'ctc_loss']
FIELDS = (['epoch'] + [f"train_{name}" for name in FIGURES]
          + [f"val_{name}" for name in FIGURES] + ['samples', 'samples_per_s', 'minutes'])


class EpochLog:
    """Module.fit callbacks that append a row to `path` after every validation (path None:
    log only, as on the workers of a distributed run other than the first)."""

    def __init__(self, path, start, train_metric, samples_per_epoch, begin_epoch):
        self.path, self.start, self.train_metric = path, start, train_metric
        self.samples_per_epoch = samples_per_epoch
        self.epoch_start = time.time()
        self.train, self.samples_per_s = {}, 0.0
        if path is not None and not (begin_epoch and os.path.isfile(path)):
            with open(path, 'w', newline='') as f:
                csv.writer(f).writerow(FIELDS)

    def training_done(self, epoch, symbol, arg_params, aux_params):
        self.train = dict(self.train_metric.get_name_value())
        self.samples_per_s = self.samples_per_epoch / (time.time() - self.epoch_start)

    def validation_done(self, param):
        minutes = (time.time() - self.start) / 60
        logging.info("Epoch[%d] Validation done %.1f minutes after start", param.epoch, minutes)
        val = dict(param.eval_metric.get_name_value())
        row = ([param.epoch + 1] + [self.train.get(name, '') for name in FIGURES]
               + [val.get(name, '') for name in FIGURES]
               + [(param.epoch + 1) * self.samples_per_epoch, round(self.samples_per_s, 1),
                  round(minutes, 2)])
        if self.path is not None:
            with open(self.path, 'a', newline='') as f:
                csv.writer(f).writerow([round(x, 6) if isinstance(x, float) else x
                                        for x in row])
        self.epoch_start = time.time()


def read_log(path):
    """PREFIX-log.csv -> {column: [floats]} (an empty cell is NaN). Raises ValueError."""
    try:
        with open(path, newline='') as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise ValueError(f"cannot read {path!r}: {err.strerror}")
    if not rows or 'val_accuracy' not in rows[0]:
        raise ValueError(f"{path!r} is not a training log written by lstm_ocr_train.py")
    if 'samples' not in rows[0]:
        raise ValueError(f"{path!r} was written by an older lstm_ocr_train.py: it does not "
                         "count the captchas trained on")
    return {column: [float(row[column] or 'nan') for row in rows] for column in rows[0]}

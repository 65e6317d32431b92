"""Network shape and training settings of the LSTM-OCR example.

The defaults are the original example's: plain SGD with momentum on 30,000 fresh captchas
an epoch for 100 epochs. Every field can be overridden from the command line of
lstm_ocr_train.py with the same name (e.g. --batch_size 64).
"""
from dataclasses import dataclass


@dataclass
class Hyperparams:
    train_epoch_size: int = 30000  # captchas per training epoch
    eval_epoch_size: int = 3000    # captchas in the validation set
    batch_size: int = 128
    num_epoch: int = 100
    learning_rate: float = 0.001
    momentum: float = 0.9
    num_label: int = 4             # longest digit string; shorter ones are padded with 0
    seq_length: int = 80           # time steps = pixel columns of the 80x30 input
    num_hidden: int = 100          # LSTM units per layer
    num_lstm_layer: int = 2
    num_classes: int = 11          # CTC blank + digits 0-9

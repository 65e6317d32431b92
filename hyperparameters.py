"""Network shape and training settings of the LSTM-OCR example, as named recipes.

- `seed`: the original example exactly: a 2x100 LSTM on raw [0, 1] pixels, plain SGD
  (lr 0.001, momentum 0.9) on 30,000 fresh captchas an epoch for 100 epochs. It needs
  about 3 million captchas to reach 87 %, hours on a laptop CPU.
- `fast` (the default): the same kind of network, an LSTM unrolled over the pixel columns
  with a CTC head, but each image is standardised to zero mean and unit variance inside the
  graph, two 3x3 convolutions turn every four columns into one step's features (20 steps
  instead of 80, a quarter of the LSTM's work), one LSTM layer reads both ways, and Adam with a
  cosine learning-rate decay replaces SGD, on batches of 32 (on a CPU a batch of 32 costs
  about as much per captcha as one of 128, and gives four times the updates). See README,
  "Recipes".

Every field can be overridden from the command line of lstm_ocr_train.py with the same
name (e.g. --batch_size 64).
"""
from dataclasses import dataclass, field, replace


def setting(default, help):
    return field(default=default, metadata={'help': help})


@dataclass
class Hyperparams:
    train_epoch_size: int = setting(30000, "captchas per training epoch")
    eval_epoch_size: int = setting(3000, "captchas in the fixed validation set")
    batch_size: int = setting(128, "captchas per batch")
    num_epoch: int = setting(100, "train until this many epochs are done (resumed epochs count)")
    optimizer: str = setting('sgd', "optimizer")
    learning_rate: float = setting(0.001, "learning rate")
    lr_schedule: str = setting('constant', "learning rate over the run: constant, or cosine "
                                           "decay to 0 by the last epoch")
    momentum: float = setting(0.9, "SGD momentum (ignored by adam)")
    clip_gradient: float = setting(0.0, "clip each gradient element to +-this; 0 = no clipping")
    rnn: str = setting('unrolled', "LSTM implementation: 'unrolled' (one graph node per step, "
                                   "the original's) or 'fused' (one mx.sym.RNN operator)")
    num_hidden: int = setting(100, "LSTM units per layer and direction")
    num_lstm_layer: int = setting(2, "LSTM layers")
    bidirectional: bool = setting(False, "LSTM layers read right to left too")
    normalize: bool = setting(False, "standardise each image inside the graph")
    conv_channels: tuple = setting((), "convolutional front end channels, comma-separated; "
                                       "'none' for none")
    column_pool: int = setting(1, "the convolutional front end max-pools this many pixel "
                                  "columns into one LSTM time step")
    num_label: int = setting(4, "longest digit string; shorter ones are padded with 0")
    seq_length: int = setting(80, "time steps = pixel columns of the 80x30 input")


RECIPES = {
    'seed': Hyperparams(),
    'fast': replace(Hyperparams(), train_epoch_size=8000, eval_epoch_size=2000, batch_size=32,
                    num_epoch=30, optimizer='adam', learning_rate=0.001, lr_schedule='cosine',
                    num_lstm_layer=1, bidirectional=True, normalize=True,
                    conv_channels=(32, 32), column_pool=4),
}

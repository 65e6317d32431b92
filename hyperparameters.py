"""Network shape and training settings of the LSTM-OCR example, as named recipes.

- `seed`: the original example, MXNet 1.9.1's example/ctc, value for value: hyperparams.py
  (30,000 training and 3,000 validation captchas an epoch, batch 128, 100 epochs, learning
  rate 0.01, momentum 0.9, a 2x100 LSTM over the 80 pixel columns of an 80x30 image),
  lstm_ocr_train.py (SGD, weight decay 0.00001, Xavier(factor_type='in', magnitude=2.34),
  exact-match accuracy) and lstm.py (raw [0, 1] pixels, no convolution, one direction).
  The learning rate is 0.01 since MXNet's pull request #10790 raised it from 0.001, at
  which the example did not converge.
- `fast` (the default): the same kind of network, an LSTM unrolled over the pixel columns
  with a CTC head, but each image is standardised to zero mean and unit variance inside the
  graph, two 3x3 convolutions turn every four columns into one step's features (20 steps
  instead of 80, a quarter of the LSTM's work), one LSTM layer reads both ways, and Adam with a
  cosine learning-rate decay replaces SGD, on batches of 32 (as cheap per captcha as 128 on a
  CPU, four times the updates). Images are read through the 'ink' conversion
  (image_conversion.py), which keeps coloured text that gray loses. Why:
  docs/decisions.md#fast-recipe and docs/decisions.md#ink.
- `robust`: `fast` trained longer on captchas of many looks (captcha_styles.py), its first
  epoch plain (plain_first), and read at 160x60 with a wider front end in 40 steps, for
  captchas from other generators, every image it is unsure of read again blurred
  (soft_view), thinned (thin_view) and, if large, through windows (window_views). Its
  first convolution is strided and its LSTM fused, twice the rate of the full-resolution,
  unrolled network the shipped model was trained with (model/ocr-config.json records it),
  on font_wide/ (fonts.py). Why: docs/decisions.md#robust-recipe and #plain-first, and
  #soft-view, #thin-view and #window-views there.

Every field can be overridden from the command line of lstm_ocr_train.py with the same
name (e.g. --batch_size 64); each field's metadata says how its value is parsed.
"""
import argparse
from dataclasses import dataclass, field, fields, replace

from common.cli import non_negative_float, non_negative_int, positive_float, positive_int
from common.image_conversion import CONVERSIONS

XAVIER = {'factor_type': 'in', 'magnitude': 2.34}  # the original's initializer, every recipe


def channel_list(text):
    """'32,32' -> (32, 32); '' or 'none' -> () (no convolutional front end)."""
    if text.strip().lower() in ('', 'none'):
        return ()
    try:
        channels = tuple(int(part) for part in text.split(','))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers")
    if min(channels) < 1:
        raise argparse.ArgumentTypeError(f"channel counts must be at least 1, got {text!r}")
    return channels


def setting(default, help, type=positive_int, choices=None):
    return field(default=default, metadata={'help': help, 'type': type, 'choices': choices})


@dataclass(frozen=True)
class Hyperparams:
    train_epoch_size: int = setting(30000, "captchas drawn per training epoch")
    eval_epoch_size: int = setting(3000, "captchas in the drawn validation set")
    batch_size: int = setting(128, "captchas per batch")
    num_epoch: int = setting(100, "train until this many epochs are done (resumed epochs count)")
    optimizer: str = setting('sgd', "optimizer", str, ['sgd', 'adam'])
    learning_rate: float = setting(0.01, "learning rate", positive_float)
    lr_schedule: str = setting('constant', "learning rate over the run: constant, or cosine "
                                           "decay to 0 by the last epoch", str,
                               ['constant', 'cosine'])
    momentum: float = setting(0.9, "SGD momentum (ignored by adam)", non_negative_float)
    wd: float = setting(0.00001, "weight decay", non_negative_float)
    clip_gradient: float = setting(0.0, "clip each gradient element to +-this; 0 = no "
                                        "clipping", non_negative_float)
    rnn: str = setting('unrolled', "LSTM implementation: 'unrolled' (one graph node per step, "
                                   "the original's) or 'fused' (one mx.sym.RNN operator)", str,
                       ['unrolled', 'fused'])
    num_hidden: int = setting(100, "LSTM units per layer and direction")
    num_lstm_layer: int = setting(2, "LSTM layers")
    bidirectional: bool = setting(False, "LSTM layers read right to left too", bool)
    normalize: bool = setting(False, "standardise each image inside the graph", bool)
    conv_channels: tuple = setting((), "convolutional front end channels, comma-separated; "
                                       "'none' for none", channel_list)
    column_pool: int = setting(1, "the convolutional front end max-pools this many pixel "
                                  "columns into one LSTM step")
    conv_stride: int = setting(1, "stride of the first convolution: 2 reads every second "
                                  "pixel of every second row, and the layers after it a "
                                  "quarter of the pixels (--column_pool must be a multiple)")
    conversion: str = setting('plain', "how an image becomes the network's view "
                                       "(image_conversion.py)", str, list(CONVERSIONS))
    num_columns: int = setting(80, "width of the network's view in pixel columns")
    column_height: int = setting(30, "height of the network's view in pixels")
    style: str = setting('plain', "how the drawn training captchas look: 'plain', the "
                                  "captcha package's own, or 'robust', its glyphs in a random "
                                  "mix of other looks (captcha_styles.py); validation captchas "
                                  "are always plain", str, ['plain', 'robust'])
    plain_first: int = setting(0, "captchas of a run drawn plain before the --style mix "
                                  "begins, so that the network leaves CTC's all-blank start "
                                  "on easy captchas; 0 = none", non_negative_int)
    soft_view: float = setting(0.0, "reading: also read images it is unsure of with their "
                                    "ink spread by a pixel and blurred by a Gaussian of this "
                                    "sigma (view pixels), and keep that reading where it is "
                                    "far more confident; 0 = no blurred reading "
                                    "(image_conversion.soften)",
                               non_negative_float)
    thin_view: bool = setting(False, "reading: also read images it is unsure of with their "
                                     "ink thinned by a pixel (bold or shadowed glyphs that run "
                                     "together come apart) and keep that reading where it is "
                                     "far more confident (image_conversion.thin)", bool)
    window_views: bool = setting(False, "reading: also read large images it is unsure of "
                                        "through windows a view tall or more, for small text "
                                        "on a large canvas, and keep the surest reading of "
                                        "the whole text where it is far more confident "
                                        "(image_conversion.window_boxes)", bool)
    augment: bool = setting(False, "randomly shift, scale, blur and add noise to stored "
                                   "training images (--train_data) each time they are served",
                            bool)

    @property
    def num_steps(self):
        """LSTM steps: the view's pixel columns, pooled by the front end."""
        return self.num_columns // self.column_pool

    def finer_pooling(self):
        """Half the column pooling (twice the LSTM steps), or None where halving would leave
        it below, or off a multiple of, the first convolution's stride."""
        half = self.column_pool // 2
        return half if half >= self.conv_stride and half % self.conv_stride == 0 else None

    def problem(self):
        """Why these settings cannot work together, or None."""
        for name in ('column_pool', 'conv_stride'):
            if getattr(self, name) > 1 and not self.conv_channels:
                return f"--{name} needs the convolutional front end: set --conv_channels too"
        if self.column_pool % self.conv_stride:
            return "--column_pool must be a multiple of --conv_stride"
        if self.num_columns % self.column_pool:
            return (f"--column_pool must divide the {self.num_columns} pixel columns "
                    "(--num_columns)")
        if self.train_epoch_size < self.batch_size or self.eval_epoch_size < self.batch_size:
            return (f"--train_epoch_size and --eval_epoch_size must be at least --batch_size "
                    f"({self.batch_size})")
        return None


NETWORK_FIELDS = ('rnn', 'num_hidden', 'num_lstm_layer', 'bidirectional', 'normalize',
                  'conv_channels', 'column_pool', 'conv_stride', 'conversion', 'num_columns',
                  'column_height')
VIEW_FIELDS = ('soft_view', 'thin_view', 'window_views')  # how a model reads
# views no longer read, ignored in older checkpoints' settings: docs/decisions.md#crop-view
RETIRED_FIELDS = ('crop_view',)

RECIPES = {
    'seed': Hyperparams(),
    'fast': replace(Hyperparams(), train_epoch_size=8000, eval_epoch_size=2000, batch_size=32,
                    num_epoch=30, optimizer='adam', learning_rate=0.001, lr_schedule='cosine',
                    num_lstm_layer=1, bidirectional=True, normalize=True,
                    conv_channels=(32, 32), column_pool=4, conversion='ink'),
}
# the blurred view joins glyphs broken into dots or hatching: see docs/decisions.md#soft-view
SOFT_VIEW = 1.0
# an epoch of plain captchas first: off CTC's all-blank start sooner, docs/decisions.md#plain-first
PLAIN_FIRST = 16000

# other generators' captchas (many looks, 160x60, 40 steps): docs/decisions.md#robust-recipe
RECIPES['robust'] = replace(RECIPES['fast'], style='robust', train_epoch_size=16000,
                            num_columns=160, column_height=60, column_pool=4,
                            conv_channels=(32, 64), conv_stride=2, rnn='fused',
                            num_hidden=128, soft_view=SOFT_VIEW, thin_view=True,
                            window_views=True, plain_first=PLAIN_FIRST)

# for a few hundred labelled images, an epoch one pass: docs/decisions.md#finetune-settings
FINETUNE = {'batch_size': 16, 'num_epoch': 40, 'optimizer': 'adam', 'learning_rate': 0.003,
            'lr_schedule': 'cosine', 'augment': True, 'plain_first': 0}
# the fewest LSTM steps a fine-tuned network reads in: docs/decisions.md#finetune-steps
FINETUNE_STEPS = 40
# fewer passes over a large dataset read as well: docs/decisions.md#finetune-samples
FINETUNE_SAMPLES = 144_000


def finetuning_epochs(samples_per_epoch):
    """FINETUNE's passes over a dataset of this many samples a pass, fewer where they would
    come to over FINETUNE_SAMPLES; at least one."""
    return max(1, min(FINETUNE['num_epoch'], FINETUNE_SAMPLES // samples_per_epoch))


def finetuning(recipe, checkpoint):
    """The settings of a run fine-tuned from a checkpoint trained with `checkpoint`: its
    network and the other views it reads through (docs/decisions.md#finetune-views),
    FINETUNE's training settings, the rest `recipe`'s.

    Where the front end pools columns, the run reads in at least FINETUNE_STEPS LSTM steps,
    halving the pooling as often as it takes: pooling has no parameters, so every parameter
    still fits (docs/decisions.md#finetune-steps)."""
    carried = {name: getattr(checkpoint, name) for name in NETWORK_FIELDS + VIEW_FIELDS}
    tuned = replace(recipe, **FINETUNE, **carried)
    while (tuned.num_steps < FINETUNE_STEPS and tuned.column_pool % 2 == 0 and
           tuned.finer_pooling()):
        tuned = replace(tuned, column_pool=tuned.finer_pooling())
    return tuned


def from_dict(values):
    """Hyperparams from a saved dict (unknown keys are an error; missing ones take the seed
    recipe's values); lists become tuples."""
    known = {f.name for f in fields(Hyperparams)}
    values = {k: v for k, v in values.items() if k not in RETIRED_FIELDS}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown settings {', '.join(sorted(unknown))}")
    return replace(Hyperparams(), **{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in values.items()})

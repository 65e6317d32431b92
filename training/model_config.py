"""The settings a model was trained with, written beside its checkpoint as PREFIX-config.json.

A checkpoint is PREFIX-symbol.json + PREFIX-NNNN.params, which plain
`mx.model.load_checkpoint` loads; PREFIX-config.json sits beside them and holds what those
files cannot: every recipe setting (hyperparameters.py), including the input conversion, the
alphabet, the longest label and the CTC head. Inference, resuming, fine-tuning, the ONNX
export and the benchmarks build from it, so a model is always read the way it was trained.

A checkpoint without it (the original example's, or one written before this file existed)
reads with the original's settings: the 'plain' 80x30 conversion, the digits, labels of up
to 4. No mxnet here.
"""
import dataclasses
import json
import os

import hyperparameters
from common.alphabet import DIGITS, Alphabet
from common.image_conversion import Conversion
from common.whole_files import written_whole

FORMAT = 'lstm-ocr-config/1'
EXAMPLE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # above training/
SHIPPED_PREFIX = os.path.join(EXAMPLE_ROOT, 'model', 'ocr')
SHIPPED_EPOCH = 30  # model/ocr-0030.params: the model this example ships
SHIPPED_ONNX = f"{SHIPPED_PREFIX}.onnx"  # the same model exported (export_onnx.py)
# model/alnum-0020: the shipped model trained on for letters and digits (0-9a-zA-Z, 4 to 6
# characters), a starting point for fine-tuning on labelled captchas with letters
ALNUM_PREFIX = os.path.join(os.path.dirname(SHIPPED_PREFIX), 'alnum')
ALNUM_EPOCH = 20
ONNX_METADATA_KEY = 'lstm_ocr_config'  # an exported model's settings, in its ONNX metadata


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    hp: hyperparameters.Hyperparams = hyperparameters.RECIPES['seed']
    charset: str = DIGITS
    num_label: int = 4
    loss: str = 'ctc'

    @property
    def alphabet(self):
        return Alphabet(self.charset)

    @property
    def conversion(self):
        return Conversion(self.hp.conversion, self.hp.num_columns, self.hp.column_height)

    def to_dict(self):
        return {'format': FORMAT, 'hyperparameters': dataclasses.asdict(self.hp),
                'charset': self.charset, 'num_label': self.num_label, 'loss': self.loss}

    @classmethod
    def from_dict(cls, values):
        """Raises ValueError for a dict that is not a settings file of this format."""
        if not isinstance(values, dict) or values.get('format') != FORMAT:
            raise ValueError(f"not an LSTM-OCR settings file (format {FORMAT})")
        try:
            return cls(hyperparameters.from_dict(values['hyperparameters']),
                       values['charset'], int(values['num_label']), values['loss'])
        except (KeyError, TypeError) as err:
            raise ValueError(f"settings file lacks or garbles {err}")

    def to_json(self):
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text):
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError:
            raise ValueError("settings are not valid JSON")


LEGACY = ModelConfig()  # the original example's settings


def config_path(prefix):
    return f"{prefix}-config.json"


def save(config, prefix):
    """Write PREFIX-config.json whole (whole_files.py). Raises ValueError."""
    with written_whole(config_path(prefix)) as temporary, open(temporary, 'w') as f:
        f.write(config.to_json() + '\n')


def load(prefix):
    """PREFIX-config.json -> ModelConfig, or None where the checkpoint has none. Raises
    ValueError for a file that is there but unreadable."""
    path = config_path(prefix)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return ModelConfig.from_json(f.read())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path!r} is unreadable ({err}): restore it or delete it to read "
                         "the checkpoint with the original example's settings")


def split_checkpoint(name):
    """'model/ocr-0030' (or 'model/ocr-0030.params') -> ('model/ocr', 30). Raises ValueError."""
    stem = name[:-len('.params')] if name.endswith('.params') else name
    prefix, _, epoch = stem.rpartition('-')
    if not prefix or not epoch.isdigit():
        raise ValueError(f"{name!r} is not a checkpoint name: give PREFIX-NNNN, e.g. "
                         "model/ocr-0030")
    return prefix, int(epoch)

"""An exported model (export_onnx.py) run by ONNX Runtime: reading.py's model, without MXNet.

    model = ONNXModel('model/ocr.onnx')
    probs = model.probabilities(inputs)   # (num_steps, n, num_classes)

The model's settings (conversion, alphabet) come from its ONNX metadata, so it reads
images exactly as the checkpoint it was exported from. Only onnxruntime and numpy here: this
path runs where MXNet cannot be installed.
"""
import os

import onnxruntime

from training.model_config import ONNX_METADATA_KEY, ModelConfig

WARNINGS_AND_ABOVE_SILENCED = 3  # onnxruntime's log severity: errors only


class ONNXModel:
    """An ONNX Runtime session over an exported LSTM-OCR model; batches of any size."""

    def __init__(self, path, batch_size=256):
        if not os.path.isfile(path):
            raise ValueError(f"ONNX model {path!r} not found: export one with export_onnx.py")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = WARNINGS_AND_ABOVE_SILENCED
        try:
            self.session = onnxruntime.InferenceSession(path, options,
                                                        providers=['CPUExecutionProvider'])
        except Exception as err:  # onnxruntime raises its own, unexported, exception types
            raise ValueError(f"{path!r} is not a readable ONNX model ({type(err).__name__}): "
                             "export it again with export_onnx.py")
        settings = self.session.get_modelmeta().custom_metadata_map.get(ONNX_METADATA_KEY)
        if settings is None:
            raise ValueError(f"{path!r} is an ONNX model but not an LSTM-OCR one (its metadata "
                             "has no settings): export a checkpoint with export_onnx.py")
        self.config = ModelConfig.from_json(settings)
        self.batch_size = batch_size
        self.input_name = self.session.get_inputs()[0].name

    def probabilities(self, inputs):
        """Network inputs (n, num_columns, column_height) -> probabilities (num_steps, n,
        num_classes)."""
        probs = self.session.run(None, {self.input_name: inputs})[0]
        return probs.reshape(self.config.hp.num_steps, len(inputs), probs.shape[-1])

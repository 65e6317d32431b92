"""Read the digits in captcha images with a trained LSTM-OCR checkpoint.

    python lstm_ocr_infer.py --prefix ocr --epoch 100 sample.jpg
    Digits: [0, 0, 8, 9]

The checkpoint is loaded with mx.model.load_checkpoint; its training head (CTC loss) is cut
off at `pred_fc` and replaced by a softmax, and the result is bound as an inference Module.
Images of any size or colour are converted exactly as in training (captcha_generator.py).
Several images are read in one batch; each line is then prefixed with the image's path.
"""
import os

import mxnet as mx
import numpy as np

import lstm
from captcha_generator import SEQ_LENGTH, read_image
from cli import Parser, fail, positive_int
from ctc_metrics import greedy_decode


def parse_args():
    parser = Parser(description="Read the digits in captcha images with a trained checkpoint.")
    parser.add_argument('images', nargs='+', metavar='IMAGE', help="image file(s) to read")
    parser.add_argument('--prefix', default='ocr', help="checkpoint prefix")
    parser.add_argument('--epoch', type=positive_int, default=100, help="checkpoint epoch")
    return parser.parse_args()


def load_inference_model(prefix, epoch):
    """Checkpoint -> (softmax symbol, arg_params, aux_params, initial-state input names)."""
    for path in (f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"):
        if not os.path.isfile(path):
            raise ValueError(f"checkpoint file {path!r} not found: check --prefix and --epoch")
    try:
        symbol, arg_params, aux_params = mx.model.load_checkpoint(prefix, epoch)
    except mx.base.MXNetError:
        raise ValueError(f"checkpoint {prefix}-{epoch:04d} is unreadable (truncated or not "
                         "an MXNet checkpoint): retrain or pick another --epoch")
    if 'pred_fc_output' not in symbol.get_internals().list_outputs():
        raise ValueError(f"{prefix}-symbol.json has no 'pred_fc' layer: not an LSTM-OCR model")
    softmax = lstm.add_softmax(symbol.get_internals()['pred_fc_output'])
    state_names = [name for name in softmax.list_arguments()
                   if name != 'data' and name not in arg_params]
    return softmax, arg_params, aux_params, state_names


class Reader:
    """A bound inference Module for batches of `batch_size` images."""

    def __init__(self, prefix, epoch, batch_size, context=mx.cpu()):
        softmax, arg_params, aux_params, state_names = load_inference_model(prefix, epoch)
        num_hidden = {name: arg_params[f"{name.split('_')[0]}_h2h_weight"].shape[1]
                      for name in state_names}
        self.batch_size = batch_size
        self.states = [mx.nd.zeros((batch_size, num_hidden[name])) for name in state_names]
        self.module = mx.mod.Module(softmax, data_names=['data'] + state_names,
                                    label_names=None, context=context)
        self.module.bind(data_shapes=[('data', (batch_size, SEQ_LENGTH, 30))]
                         + [(n, s.shape) for n, s in zip(state_names, self.states)],
                         for_training=False)
        try:
            self.module.set_params(arg_params, aux_params)
        except (mx.base.MXNetError, ValueError, AssertionError):
            raise ValueError(f"checkpoint {prefix}-{epoch:04d} does not fit this network "
                             "(parameters of another shape): was it trained by lstm_ocr_train.py?")

    def read(self, images):
        """(n, 80, 30) images -> list of digit lists, n <= batch_size."""
        batch = np.zeros((self.batch_size,) + images.shape[1:], dtype=np.float32)
        batch[:len(images)] = images
        self.module.forward(mx.io.DataBatch([mx.nd.array(batch)] + self.states), is_train=False)
        prob = self.module.get_outputs()[0].asnumpy()
        return [[c - 1 for c in classes] for classes in greedy_decode(prob, SEQ_LENGTH)][:len(images)]


def main():
    args = parse_args()
    try:
        images = np.stack([read_image(path) for path in args.images])
        reader = Reader(args.prefix, args.epoch, batch_size=len(images))
    except ValueError as err:
        fail(err)
    for path, digits in zip(args.images, reader.read(images)):
        print(f"Digits: {digits}" if len(args.images) == 1 else f"{path}: Digits: {digits}")


if __name__ == '__main__':
    main()

"""A WarpCTC head for MXNet builds without the warp-ctc plugin (that is, every pip build).

`mx.sym.WarpCTC` exists only when MXNet is compiled with Baidu's warp-ctc. This module
registers a custom operator with the plugin's contract, so `--loss warpctc` runs anywhere:

- inputs: `data`, activations of shape (num_steps * batch, num_classes) in time-major order
  (row t * batch + n), and `label`, int32 of shape (batch * label_length,) padded with 0;
- forward: the softmax of the activations (what metrics and inference read);
- backward: the gradient of the CTC cost with respect to the activations, blank = 0, as
  warp-ctc computes it (zeros in a label are dropped, as the plugin drops them), from
  ctc.cost_and_grad.
"""
import mxnet as mx
import numpy as np

from common import ctc


class WarpCTC(mx.operator.CustomOp):
    def __init__(self, label_length, input_length):
        super().__init__()
        self.label_length, self.input_length = label_length, input_length

    def forward(self, is_train, req, in_data, out_data, aux):
        self.assign(out_data[0], req[0], mx.nd.softmax(in_data[0], axis=-1))

    def backward(self, req, out_grad, in_data, out_data, in_grad, aux):
        rows, num_classes = in_data[0].shape
        activations = in_data[0].asnumpy().reshape(self.input_length, -1, num_classes)
        labels = in_data[1].asnumpy().reshape(-1, self.label_length)
        _, grad = ctc.cost_and_grad(activations, labels)
        self.assign(in_grad[0], req[0], mx.nd.array(grad.reshape(rows, num_classes)))
        self.assign(in_grad[1], req[1], mx.nd.zeros(in_data[1].shape, dtype=in_data[1].dtype))


@mx.operator.register('warpctc')
class WarpCTCProp(mx.operator.CustomOpProp):
    def __init__(self, label_length, input_length):
        super().__init__(need_top_grad=False)  # a loss layer: its gradient is its own
        self.label_length, self.input_length = int(label_length), int(input_length)

    def list_arguments(self):
        return ['data', 'label']

    def list_outputs(self):
        return ['output']

    def infer_shape(self, in_shape):
        data_shape = in_shape[0]
        batch = data_shape[0] // self.input_length
        return [data_shape, (batch * self.label_length,)], [data_shape], []

    def infer_type(self, in_type):
        return [in_type[0], np.int32], [in_type[0]], []

    def create_operator(self, ctx, shapes, dtypes):
        return WarpCTC(self.label_length, self.input_length)


def warp_ctc(data, label, label_length, input_length, name):
    """The WarpCTC head as a symbol, with mx.sym.WarpCTC's arguments."""
    return mx.sym.Custom(data=data, label=label, label_length=label_length,
                         input_length=input_length, op_type='warpctc', name=name)

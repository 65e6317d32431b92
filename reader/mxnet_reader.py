"""A checkpoint's reading graph bound as an MXNet inference Module (reading.py's model).

    model = MXNetModel('model/ocr', 30)
    probs = model.probabilities(inputs)   # (num_steps, n, num_classes)

The graph is the checkpoint's own (checkpoint.reading_symbol): cut at `pred_fc`, a softmax
on top, zero initial states made inside it; its settings say how images are converted and
which alphabet it reads.
"""
import mxnet as mx

from training import checkpoint


class MXNetModel:
    """A bound inference Module for batches of up to `batch_size` images."""

    def __init__(self, prefix, epoch, batch_size=256, context=mx.cpu()):
        symbol, arg_params, aux_params, self.config = checkpoint.reading_symbol(prefix, epoch)
        self.batch_size = batch_size
        hp = self.config.hp
        self.module = mx.mod.Module(symbol, data_names=['data'], label_names=None,
                                    context=context)
        try:
            self.module.bind(data_shapes=[('data', (batch_size, hp.num_columns,
                                                    hp.column_height))], for_training=False)
            self.module.set_params(arg_params, aux_params)
        except (mx.base.MXNetError, RuntimeError, ValueError, AssertionError, KeyError):
            raise ValueError(f"checkpoint {prefix}-{epoch:04d} does not fit this network "
                             "(parameters of another shape): was it trained by "
                             "lstm_ocr_train.py?")

    def probabilities(self, inputs):
        """Network inputs (n, num_columns, column_height), n <= batch_size -> probabilities
        (num_steps, n, num_classes)."""
        # A batch of another size reshapes the bound executor (Module.forward does it, in
        # the memory bound for batch_size) rather than being padded: the few images read
        # again through other views (reading.read_views) cost their own share, not a batch.
        self.module.forward(mx.io.DataBatch([mx.nd.array(inputs)]), is_train=False)
        probs = self.module.get_outputs()[0].asnumpy()
        return probs.reshape(-1, len(inputs), probs.shape[-1])

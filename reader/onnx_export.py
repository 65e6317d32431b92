"""A checkpoint's reading graph as an ONNX model, made by MXNet's own exporter.

    export('model/ocr', 30, 'model/ocr.onnx')

The graph is the one the MXNet reader binds (checkpoint.reading_symbol): cut at `pred_fc`,
a softmax on top, the LSTM's zero initial states made inside the graph, so the model has
one input, `data` (batch, num_columns, column_height) with a dynamic batch axis, and one
output, per-step class probabilities (num_steps * batch, num_classes), time-major like
`pred_fc`. The weights are initializers, not graph inputs. The checkpoint's settings
(model_config.py: conversion, alphabet, longest label) go into the model's metadata under
model_config.ONNX_METADATA_KEY, so onnx_reader.py reads it exactly as it was trained.

Three things MXNet 1.9.1's exporter needs, found by trying it with the shipped model:
- opset 13, named explicitly: with onnx 1.13 it would label the graph with opset 18, whose
  ReduceMean it does not write, and onnx's checker (which the exporter calls) checks against
  its newest opset unless told otherwise;
- no reshape code -3 it does not know: checkpoints written before lstm.py avoided it (the
  shipped one among them) say (0, 0, -3), which merges the last two axes of a 4-D array,
  exactly what (0, 0, -1) does; that rewrite is made on the loaded graph;
- the fused mx.sym.RNN only with state_outputs=True, which lstm.py's fused network has.
"""
import contextlib
import glob
import json
import os

import mxnet as mx
import onnx
import onnx.checker
from mxnet.onnx.mx2onnx._export_onnx import MXNetGraph
from onnx import TensorProto, helper

from common import whole_files
from training import checkpoint, model_config
from training.model_config import ONNX_METADATA_KEY

OPSET = 13
# reshape codes the exporter refuses -> codes that compute the same on the same input
EXPORTABLE_SHAPES = {'(0, 0, -3)': '(0, 0, -1)'}


@contextlib.contextmanager
def checker_opset(version):
    """onnx's checker checks graphs against `version` (its default context is fixed at
    import to the newest opset onnx knows)."""
    context = onnx.checker.DEFAULT_CONTEXT
    saved = context.opset_imports
    context.opset_imports = {'': version}
    try:
        yield
    finally:
        context.opset_imports = saved


def exportable(symbol):
    """The same graph with every reshape written in codes the exporter accepts."""
    graph = json.loads(symbol.tojson())
    for node in graph['nodes']:
        shape = node.get('attrs', {}).get('shape')
        if node['op'] == 'Reshape' and shape in EXPORTABLE_SHAPES:
            node['attrs']['shape'] = EXPORTABLE_SHAPES[shape]
    return mx.sym.load_json(json.dumps(graph))


def weights_as_initializers(graph):
    """Drop the weights from the graph's inputs (the exporter lists them as both, which
    keeps ONNX Runtime from folding constants) and initializers no node reads."""
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    weights = {init.name for init in kept}
    inputs = [value for value in graph.input if value.name not in weights]
    del graph.input[:]
    graph.input.extend(inputs)


def name_dimensions(graph, num_classes):
    """Name the dynamic axes (the exporter leaves them blank): input (batch, columns,
    height), output (steps * batch, classes)."""
    graph.input[0].type.tensor_type.shape.dim[0].dim_param = 'batch'
    output = graph.output[0].type.tensor_type.shape.dim
    output[0].dim_param = 'steps_x_batch'
    output[1].dim_value = num_classes


def onnx_model(prefix, epoch):
    """Checkpoint PREFIX-NNNN -> its reading graph as an onnx.ModelProto. Raises ValueError."""
    symbol, arg_params, aux_params, config = checkpoint.reading_symbol(prefix, epoch)
    symbol = exportable(symbol)
    needed = set(symbol.list_arguments()) | set(symbol.list_auxiliary_states())
    params = {name: value for name, value in {**arg_params, **aux_params}.items()
              if name in needed}
    view = (config.hp.num_columns, config.hp.column_height)
    try:
        with checker_opset(OPSET):
            graph = MXNetGraph().create_onnx_graph_proto(
                symbol, params, [(1,) + view], [TensorProto.FLOAT], opset_version=OPSET,
                dynamic=True, dynamic_input_shapes=[(None,) + view])
    except (AttributeError, KeyError, ValueError, TypeError,
            onnx.checker.ValidationError) as err:
        raise ValueError(f"MXNet's ONNX exporter cannot export {prefix}-{epoch:04d}: {err}")
    weights_as_initializers(graph)
    name_dimensions(graph, config.alphabet.num_classes)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)],
                              producer_name='lstm-ocr export_onnx.py')
    helper.set_model_props(model, {ONNX_METADATA_KEY: config.to_json(),
                                   'checkpoint': f"{os.path.basename(prefix)}-{epoch:04d}"})
    onnx.checker.check_model(model)
    return model


def check_output(prefix, epoch, path):
    """Raise ValueError unless `path` can take the model: a regular file or a new name in a
    folder that exists, and none of the checkpoint's own files."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"folder {folder!r} does not exist: create it or write elsewhere")
    whole_files.check_output(path)
    inputs = [f"{prefix}-symbol.json", checkpoint.params_path(prefix, epoch),
              model_config.config_path(prefix)]
    if os.path.exists(path) and any(os.path.exists(f) and os.path.samefile(path, f)
                                    for f in inputs):
        raise ValueError(f"{path!r} is a file of checkpoint {prefix}-{epoch:04d} itself: "
                         "write the ONNX model to another file")


def export(prefix, epoch, path):
    """Write checkpoint PREFIX-NNNN's reading graph to `path`, whole (whole_files.py).
    Raises ValueError."""
    check_output(prefix, epoch, path)
    whole_files.remove_stale_temporaries(glob.escape(path))
    model = onnx_model(prefix, epoch)
    with whole_files.written_whole(path) as temporary:
        onnx.save(model, temporary)

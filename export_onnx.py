"""Export a trained checkpoint to ONNX, to read captchas where MXNet cannot be installed.

    python export_onnx.py model/ocr-0030 model/ocr.onnx
    python lstm_ocr_infer.py --onnx model/ocr.onnx sample.jpg     # no MXNet on this path

The ONNX model holds the checkpoint's reading graph and its settings (onnx_export.py), so
the ONNX reader (onnx_reader.py) and the service (lstm_ocr_serve.py) need nothing else.
"""
import logging
import os

from common.cli import Parser, fail
from training.model_config import split_checkpoint


def parse_args():
    parser = Parser(description="Export a checkpoint's reading graph, with its settings, to "
                                "an ONNX model that ONNX Runtime reads without MXNet.")
    parser.add_argument('checkpoint', metavar='CHECKPOINT',
                        help="PREFIX-NNNN of the checkpoint, e.g. model/ocr-0030")
    parser.add_argument('output', metavar='OUT.onnx', help="the ONNX file to write")
    return parser.parse_args()


def main():
    args = parse_args()
    logging.disable(logging.WARNING)  # the exporter logs every node it converts
    try:
        prefix, epoch = split_checkpoint(args.checkpoint)
        from reader.onnx_export import export  # after the arguments: imports MXNet and onnx
        export(prefix, epoch, args.output)
    except ValueError as err:
        fail(err)
    print(f"Exported {prefix}-{epoch:04d} to {args.output} "
          f"({os.path.getsize(args.output) / 1e6:.1f} MB)")


if __name__ == '__main__':
    main()

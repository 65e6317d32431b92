"""Serve a trained reader over HTTP: POST an image, get its text back as JSON.

    python lstm_ocr_serve.py --onnx model/ocr.onnx          # or --prefix P --epoch N
    curl --data-binary @sample.jpg http://127.0.0.1:8000/read
    {"text": "0089", "confidence": 0.9943, "digits": [0, 0, 8, 9]}

Several images in one request as a multipart upload (curl -F a=@one.jpg -F b=@two.jpg ...)
give {"results": [...]}. GET /health answers {"status": "ok"}, GET /model the model's
settings. Requests arriving together are read in one network call (reading_service.py).
Hostile requests are refused with a 4xx JSON error, within bounds the options set (images
too large, bodies too slow, too many requests at once: 503). With --onnx, MXNet is never
imported. Stop it with Ctrl-C.
"""
import errno
import logging
import socket

from common.cli import Parser, fail, non_negative_int, positive_float, positive_int
from common.image_conversion import LIMITS
from reader.reading import add_model_arguments, add_reading_arguments, checkpoint_of, load_model

BATCH_SIZE = 64  # images in one network call at most; --max_images may not exceed it


def parse_args():
    parser = Parser(description="Serve a trained LSTM-OCR reader over HTTP (POST /read, "
                                "GET /health, GET /model).")
    add_model_arguments(parser)
    parser.add_argument('--host', default='127.0.0.1',
                        help="address to listen on (0.0.0.0 for every interface)")
    parser.add_argument('--port', type=non_negative_int, default=8000,
                        help="port to listen on; 0 picks a free one (the log says which)")
    add_reading_arguments(parser)
    parser.add_argument('--max_bytes', type=positive_int, default=1 << 20,
                        help="most bytes of images in one request (one image or all the "
                             "files of a multipart upload); each image must also declare "
                             f"{LIMITS}")
    parser.add_argument('--max_images', type=positive_int, default=32,
                        help=f"most images in one request (at most {BATCH_SIZE})")
    parser.add_argument('--max_pending', type=positive_int, default=64,
                        help="most requests in the service at once; more are answered 503 "
                             "with Retry-After")
    parser.add_argument('--body_timeout', type=positive_float, default=10.0, metavar='S',
                        help="seconds a request's body may take to arrive (408 after)")
    args = parser.parse_args()
    if args.max_images > BATCH_SIZE:
        parser.error(f"--max_images can be at most {BATCH_SIZE}")
    return args


def listening_socket(host, port):
    """A bound, listening TCP socket, so that a port in use is found before serving starts.
    Raises ValueError."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (socket.gaierror, OSError) as err:
        raise ValueError(f"cannot listen on {host!r} ({err}): check --host")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ValueError(f"port {port} on {host} is already in use: stop what runs there "
                             "or pick another --port")
        raise ValueError(f"cannot listen on {host}:{port} ({err.strerror}): check --host and "
                         "--port")
    sock.listen(128)
    return sock


def main():
    args = parse_args()
    try:
        sock = listening_socket(args.host, args.port)
        model = load_model(args, BATCH_SIZE)
    except ValueError as err:
        fail(err)
    from aiohttp import web

    from reader.reading_service import make_app
    source = args.onnx or "{}-{:04d}".format(*checkpoint_of(args))
    app = make_app(model, source, args.beam, args.max_bytes, args.max_images, args.one_view,
                   args.max_pending, args.body_timeout)
    host, port = sock.getsockname()[:2]
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    logging.info("Serving %s on http://%s:%d (POST /read, GET /health, GET /model); Ctrl-C "
                 "stops", source, host, port)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


if __name__ == '__main__':
    main()

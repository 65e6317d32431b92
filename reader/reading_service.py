"""The HTTP reading service's web application (aiohttp): images in, JSON readings out.

    POST /read     one image as the body, or a multipart upload of one or more images
    GET  /health   {"status": "ok"}
    GET  /model    the model's settings: alphabet, longest label, input conversion, ...

One image gives `{"text": ..., "confidence": ...}` (and `"digits": [...]` for a digit model,
as lstm_ocr_infer.py --json prints); several give `{"results": [one per image, in order]}`.
Requests that arrive together are read in one network call: a single reader task takes
every waiting image (up to the model's batch size) whenever the network is free, so under
load the batches fill up by themselves and a lone request is never held back waiting for
company. Images are decoded and converted in one worker thread and the network runs in
another, so the event loop only moves bytes and always answers (GET /health).

Work is bounded so that hostile requests cannot stall or exhaust the service: at most
`max_pending` requests are in it at once (more get 503 with Retry-After), a request's body
must arrive within `body_timeout` seconds (408), hold at most `max_bytes` of images (413)
and declare at most MAX_REQUEST_PIXELS pixels in all, each image within the decoding gate's
limits (image_conversion.checked_size; 413). Every other bad request gets a 4xx JSON
`{"error": ...}` too and the service goes on: an empty body, bytes that are not an image or
a truncated one, a malformed multipart upload or content encoding (400). Image decoding and
conversion are image_conversion.py's, the decoding of the network's output reading.py's, as
for every other reader.
"""
import asyncio
import collections
import concurrent.futures
import contextlib
import os

import numpy as np
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from common.image_conversion import (
    MAX_PIXELS,
    ImageTooLargeError,
    UnreadableImageError,
    checked_size,
    decode_image,
)
from reader.reading import LazyImages, read_views, reading_record

READER_KEY = web.AppKey('reader', object)
DECODER_KEY = web.AppKey('decoder', concurrent.futures.ThreadPoolExecutor)
MAX_REQUEST_PIXELS = 4 * MAX_PIXELS  # of all a request's images: a bound on its decoding
RETRY_AFTER_S = 1
# what aiohttp's body decoding and multipart reader raise on a malformed body (RuntimeError:
# an unusable _charset_ part)
MALFORMED_BODY = (ValueError, LookupError, HttpProcessingError, RuntimeError)


class RequestError(Exception):
    """A request the service refuses: its HTTP status and a message saying what to fix."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status, self.headers = status, headers


class Admission:
    """A bound on the requests in the service at once: beyond it, a 503 at once rather than
    a queue that grows."""

    def __init__(self, max_pending):
        self.max_pending, self.pending = max_pending, 0

    @contextlib.contextmanager
    def admit(self):
        """Count a request in while it is served. Raises RequestError (503) when full."""
        if self.pending >= self.max_pending:
            raise RequestError(503, f"the service is busy ({self.max_pending} requests in "
                                    "it, --max_pending): try again shortly",
                               {'Retry-After': str(RETRY_AFTER_S)})
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1


class BatchReader:
    """Views from any number of requests -> readings, the waiting ones in one network call."""

    def __init__(self, model, beam_width=0, one_view=False):
        self.model, self.beam_width, self.one_view = model, beam_width, one_view
        # (views, the images' bytes, future of their readings), oldest first
        self.pending = collections.deque()
        self.arrived = asyncio.Event()
        self.network = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix='network')
        self.task = None

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self.serve())

    def stop(self):
        self.task.cancel()
        for _, _, done in self.pending:
            done.cancel()
        self.network.shutdown(wait=True)

    async def read(self, views, images):
        """Views (n, height, width) uint8 (Conversion.view) and the images' bytes ->
        [reading.Reading], n <= the model's batch size."""
        done = asyncio.get_running_loop().create_future()
        self.pending.append((views, images, done))
        self.arrived.set()
        return await done

    def take_batch(self):
        """The oldest waiting request, and after it every other that fits in one batch (a
        request is never split)."""
        taken = [self.pending.popleft()]
        count = len(taken[0][0])
        while self.pending and count + len(self.pending[0][0]) <= self.model.batch_size:
            taken.append(self.pending.popleft())
            count += len(taken[-1][0])
        return taken

    async def serve(self):
        loop = asyncio.get_running_loop()
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            while self.pending:
                taken = self.take_batch()
                views = np.concatenate([views for views, _, _ in taken])
                # decoded again only if read again through other views (reading.read_views)
                images = LazyImages([data for _, datas, _ in taken for data in datas],
                                    decode_image)
                try:
                    readings = await loop.run_in_executor(self.network, read_views, self.model,
                                                          views, self.beam_width, self.one_view,
                                                          images)
                except Exception as err:  # these requests fail with a 500; the service goes on
                    for _, _, done in taken:
                        if not done.done():  # a client that hung up cancelled its own
                            done.set_exception(err)
                    continue
                start = 0
                for request_views, _, done in taken:
                    if not done.done():
                        done.set_result(readings[start:start + len(request_views)])
                    start += len(request_views)


async def request_images(request, max_bytes, max_images, body_timeout):
    """The images of a request -> [(name, bytes)]: the body, or each file of a multipart
    upload, all within `body_timeout` seconds and `max_bytes` bytes. Raises RequestError."""
    try:
        async with asyncio.timeout(body_timeout):
            return await body_images(request, ByteBudget(max_bytes), max_images)
    except TimeoutError:
        raise RequestError(408, f"the request body did not arrive within {body_timeout:g} s "
                                "(--body_timeout)") from None
    except ConnectionError:  # the answer goes nowhere; it is a refusal, not a failure
        raise RequestError(400, "the connection closed before the body ended") from None
    except RequestPayloadError as err:
        # the body's stream is broken: ended here, or aiohttp, draining it after the answer,
        # would meet the same error again
        request.content.feed_eof()
        raise RequestError(400, f"unreadable request body ({err})") from None
    except MALFORMED_BODY as err:
        raise RequestError(400, f"malformed request body ({type(err).__name__}: "
                                f"{str(err)[:200]})") from None


async def body_images(request, budget, max_images):
    """request_images without its time limit and error translation."""
    if not request.content_type.startswith('multipart/'):
        return [('the body', await budget.read_all(request.content.read, 'the body'))]
    images = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            raise RequestError(400, "a multipart upload inside a multipart upload: send "
                                    "each image as a part of one")
        if len(images) == max_images:
            raise RequestError(413, f"more than {max_images} images in one request "
                                    "(--max_images): send them in several")
        name = part.filename or part.name or f"image {len(images) + 1}"
        images.append((name, await budget.read_all(part.read_chunk, name)))
    if not images:
        raise RequestError(400, "the multipart upload has no image in it")
    return images


class ByteBudget:
    """The bytes a request may still bring, over all its images."""

    def __init__(self, max_bytes):
        self.max_bytes, self.left = max_bytes, max_bytes

    async def read_all(self, read_chunk, name):
        """Read chunks until the end, refusing more than the budget. Raises RequestError."""
        chunks = []
        while chunk := await read_chunk(1 << 16):
            self.left -= len(chunk)
            if self.left < 0:
                raise RequestError(413, f"{name} takes the request over its "
                                        f"{self.max_bytes:,}-byte limit (--max_bytes)")
            chunks.append(chunk)
        return b''.join(chunks)


def convert(images, conversion):
    """[(name, bytes)] -> views (n, height, width) (Conversion.view), every image's declared
    size checked before any is decoded. Raises RequestError naming the image."""
    try:
        sizes = [checked_size(data, name) for name, data in images]
        if sum(width * height for width, height in sizes) > MAX_REQUEST_PIXELS:
            raise ImageTooLargeError(f"the request's images have over {MAX_REQUEST_PIXELS:,} "
                                     "pixels in all: send them in several")
        return np.stack([conversion.view(decode_image(data, name)) for name, data in images])
    except ImageTooLargeError as err:
        raise RequestError(413, str(err))
    except UnreadableImageError as err:
        raise RequestError(400, str(err))


def error_json(status, message, headers=None):
    """A refusal as JSON; the connection closed after it, as its body may be unread."""
    response = web.json_response({'error': message}, status=status, headers=headers)
    response.force_close()
    return response


@web.middleware
async def json_errors(request, handler):
    """Every refusal as JSON, including aiohttp's own (unknown path, wrong method)."""
    try:
        return await handler(request)
    except RequestError as err:
        return error_json(err.status, str(err), err.headers)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return error_json(err.status, f"{err.reason}: use POST /read, GET /health or "
                                      "GET /model")


def make_app(model, source, beam_width=0, max_bytes=1 << 20, max_images=32, one_view=False,
             max_pending=64, body_timeout=10.0):
    """The service's aiohttp application over a reading model (reading.py); GET /model names
    the model file `source` by its name alone. At most max_images images in at most
    max_bytes per request; max_images must not exceed the model's batch size. At most
    max_pending requests at once; a body must arrive within body_timeout seconds (and a
    refused one is drained no longer). `one_view`: read each image once, whatever other
    views the model's settings name (reading.read_views)."""
    if max_images > model.batch_size:
        raise ValueError(f"max_images {max_images} is over the model's batch size "
                         f"{model.batch_size}")
    config = model.config
    admission = Admission(max_pending)

    async def read(request):
        with admission.admit():
            images = await request_images(request, max_bytes, max_images, body_timeout)
            views = await asyncio.get_running_loop().run_in_executor(
                request.app[DECODER_KEY], convert, images, config.conversion)
            readings = await request.app[READER_KEY].read(views, [data for _, data in images])
        records = [reading_record(r, config.alphabet) for r in readings]
        if len(records) == 1:
            return web.json_response(records[0])
        return web.json_response({'results': [{'name': name, **record} for (name, _), record
                                              in zip(images, records)]})

    async def health(request):
        return web.json_response({'status': 'ok'})

    async def describe(request):
        return web.json_response({'source': os.path.basename(source),
                                  'runtime': type(model).__name__,
                                  'beam_width': beam_width, 'one_view': one_view,
                                  'max_bytes': max_bytes, 'max_images': max_images,
                                  'max_pending': max_pending, 'body_timeout': body_timeout,
                                  **config.to_dict()})

    async def start_workers(app):
        app[DECODER_KEY] = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix='decoder')
        app[READER_KEY] = BatchReader(model, beam_width, one_view)
        app[READER_KEY].start()
        yield
        app[READER_KEY].stop()
        app[DECODER_KEY].shutdown(wait=True)

    app = web.Application(middlewares=[json_errors],
                          handler_args={'lingering_time': body_timeout})
    app.cleanup_ctx.append(start_workers)
    app.router.add_post('/read', read)
    app.router.add_get('/health', health)
    app.router.add_get('/model', describe)
    return app

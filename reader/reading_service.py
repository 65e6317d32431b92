"""The HTTP reading service's web application (aiohttp): images in, JSON readings out.

    POST /read     one image as the body, or a multipart upload of one or more images
    GET  /health   {"status": "ok"}
    GET  /model    the model's settings: alphabet, longest label, input conversion, ...

One image gives `{"text": ..., "confidence": ...}` (and `"digits": [...]` for a digit model,
as lstm_ocr_infer.py --json prints); several give `{"results": [one per image, in order]}`.
Requests that arrive together are read in one network call: a single reader task takes
every waiting image (up to the model's batch size) whenever the network is free, so under
load the batches fill up by themselves and a lone request is never held back waiting for
company. The network runs in one worker thread, so the event loop keeps accepting requests.

Bad requests get a 4xx JSON `{"error": ...}` and the service goes on: an empty body, bytes
that are not an image or a truncated one (400), an image over the size limit or too many
images in one request (413). Image decoding and conversion are image_conversion.py's, the
decoding of the network's output reading.py's, as for every other reader.
"""
import asyncio
import collections
import concurrent.futures

import numpy as np
from aiohttp import web

from common.image_conversion import decode_image
from reader.reading import LazyImages, read_views, reading_record

READER_KEY = web.AppKey('reader', object)


class RequestError(Exception):
    """A request the service refuses: its HTTP status and a message saying what to fix."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


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


async def request_images(request, max_bytes, max_images):
    """The images of a request -> [(name, bytes)]: the body, or each file of a multipart
    upload. Raises RequestError."""
    if request.content_type.startswith('multipart/'):
        images = []
        async for part in await request.multipart():
            if len(images) == max_images:
                raise RequestError(413, f"more than {max_images} images in one request "
                                        "(--max_images): send them in several")
            name = part.filename or part.name or f"image {len(images) + 1}"
            images.append((name, await read_limited(part.read_chunk, name, max_bytes)))
        if not images:
            raise RequestError(400, "the multipart upload has no image in it")
        return images
    return [('the body', await read_limited(request.content.read, 'the body', max_bytes))]


async def read_limited(read_chunk, name, max_bytes):
    """Read chunks until the end, refusing more than max_bytes. Raises RequestError."""
    data = bytearray()
    while chunk := await read_chunk(1 << 16):
        data += chunk
        if len(data) > max_bytes:
            raise RequestError(413, f"{name} is over the {max_bytes:,}-byte limit per image "
                                    "(--max_bytes)")
    return bytes(data)


def convert(images, conversion):
    """[(name, bytes)] -> views (n, height, width) (Conversion.view). Raises RequestError
    naming the image."""
    views = []
    for name, data in images:
        try:
            views.append(conversion.view(decode_image(data, name)))
        except ValueError as err:
            raise RequestError(400, str(err))
    return np.stack(views)


def error_json(status, message):
    return web.json_response({'error': message}, status=status)


@web.middleware
async def json_errors(request, handler):
    """Every refusal as JSON, including aiohttp's own (unknown path, wrong method)."""
    try:
        return await handler(request)
    except RequestError as err:
        return error_json(err.status, str(err))
    except web.HTTPException as err:
        if err.status < 400:
            raise
        return error_json(err.status, f"{err.reason}: use POST /read, GET /health or "
                                      "GET /model")


def make_app(model, source, beam_width=0, max_bytes=1 << 20, max_images=32, one_view=False):
    """The service's aiohttp application over a reading model (reading.py); `source` names
    the model file in GET /model. At most max_images images of at most max_bytes each per
    request; max_images must not exceed the model's batch size. `one_view`: read each image
    once, whatever other views the model's settings name (reading.read_views)."""
    if max_images > model.batch_size:
        raise ValueError(f"max_images {max_images} is over the model's batch size "
                         f"{model.batch_size}")
    config = model.config

    async def read(request):
        images = await request_images(request, max_bytes, max_images)
        views = convert(images, config.conversion)
        readings = await request.app[READER_KEY].read(views, [data for _, data in images])
        records = [reading_record(r, config.alphabet) for r in readings]
        if len(records) == 1:
            return web.json_response(records[0])
        return web.json_response({'results': [{'name': name, **record} for (name, _), record
                                              in zip(images, records)]})

    async def health(request):
        return web.json_response({'status': 'ok'})

    async def describe(request):
        return web.json_response({'source': source, 'runtime': type(model).__name__,
                                  'beam_width': beam_width, 'one_view': one_view,
                                  'max_bytes': max_bytes,
                                  'max_images': max_images, **config.to_dict()})

    async def start_reader(app):
        app[READER_KEY] = BatchReader(model, beam_width, one_view)
        app[READER_KEY].start()
        yield
        app[READER_KEY].stop()

    app = web.Application(middlewares=[json_errors])
    app.cleanup_ctx.append(start_reader)
    app.router.add_post('/read', read)
    app.router.add_get('/health', health)
    app.router.add_get('/model', describe)
    return app

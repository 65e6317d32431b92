"""The HTTP reading service, as a client uses it: a real server process on 127.0.0.1."""
import asyncio
import json
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
import requests

from conftest import REPO, assert_one_line_error, draw_captchas, run_script
from reader.onnx_reader import ONNXModel
from reader.reading import is_unsure, other_views, read_batches, read_views
from reader.reading_service import BatchReader
from training.model_config import SHIPPED_EPOCH, SHIPPED_ONNX, SHIPPED_PREFIX

pytestmark = pytest.mark.slow

MAX_BYTES, MAX_IMAGES = 100_000, 4


def start_server(*options, env=None):
    """lstm_ocr_serve.py on a free port -> (process, base URL), once it listens."""
    process = subprocess.Popen([sys.executable, os.path.join(REPO, 'lstm_ocr_serve.py'),
                                '--port', '0', *map(str, options)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    said = []
    for line in process.stderr:  # the log says where it serves, or what failed
        said.append(line)
        found = re.search(r'Serving .* on (http://127\.0\.0\.1:\d+)', line)
        if found:  # from now on nobody reads the log: drain it, so it can never block
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, found.group(1)
    process.wait(timeout=30)
    pytest.fail(f"the server did not start: {''.join(said)}")


def stop_server(process):
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope='module')
def captchas(tmp_path_factory, font):
    return draw_captchas(tmp_path_factory.mktemp('captchas'), font, 12, seed=9)


@pytest.fixture(scope='module')
def expected(captchas):
    """What lstm_ocr_infer.py --onnx --json says of every captcha: path -> record."""
    result = run_script('lstm_ocr_infer.py', '--onnx', SHIPPED_ONNX, '--json', *captchas)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return {r.pop('path'): r for r in records}


@pytest.fixture(scope='module')
def server():
    process, url = start_server('--onnx', SHIPPED_ONNX, '--max_bytes', MAX_BYTES,
                                '--max_images', MAX_IMAGES)
    yield url
    stop_server(process)


def test_health_and_model_settings(server):
    assert requests.get(f"{server}/health", timeout=10).json() == {'status': 'ok'}
    settings = requests.get(f"{server}/model", timeout=10).json()
    assert settings['charset'] == '0123456789' and settings['num_label'] == 4
    assert settings['hyperparameters']['conversion'] == 'ink'
    assert settings['source'] == os.path.basename(SHIPPED_ONNX)  # no server path shown
    assert settings['max_images'] == MAX_IMAGES


def test_an_image_as_the_body_reads_as_the_cli_reads_it(server, captchas, expected):
    for path in captchas[:3]:
        answer = requests.post(f"{server}/read", data=path.read_bytes(), timeout=10)
        assert answer.status_code == 200
        assert answer.json() == expected[str(path)]


def test_small_text_on_a_large_canvas_reads_through_its_other_views_as_the_cli_reads_it(
        server, tmp_path, unseen_fonts):
    """The service reads every view the model's settings name, windows (window_views) too,
    as lstm_ocr_infer.py does, and
    with --one_view one view, as lstm_ocr_infer.py --one_view does: on `poster` captchas
    the views change what is read."""
    drawn = tmp_path / 'drawn'
    result = run_script('captcha_generator.py', unseen_fonts, '--style', 'poster',
                        '--count', 6, '--out', drawn, '--seed', 7)
    assert result.returncode == 0, result.stderr
    posters = []
    for path in sorted(drawn.iterdir()):  # as JPEG, to fit the service's --max_bytes
        posters.append(tmp_path / f"{path.stem}.jpg")
        cv2.imwrite(str(posters[-1]), cv2.imread(str(path)), [cv2.IMWRITE_JPEG_QUALITY, 90])
    by_cli = [run_script('lstm_ocr_infer.py', '--onnx', SHIPPED_ONNX, '--json', *flags,
                         *posters).stdout.splitlines() for flags in ([], ['--one_view'])]
    assert by_cli[0] != by_cli[1]
    process, one_view_server = start_server('--onnx', SHIPPED_ONNX, '--one_view')
    try:
        assert requests.get(f"{one_view_server}/model", timeout=10).json()['one_view'] is True
        for url, lines in ((server, by_cli[0]), (one_view_server, by_cli[1])):
            for path, line in zip(posters, lines):
                answer = requests.post(f"{url}/read", data=path.read_bytes(), timeout=10)
                assert answer.status_code == 200
                record = json.loads(line)
                assert record.pop('path') == str(path) and answer.json() == record
    finally:
        stop_server(process)


def test_several_images_in_one_multipart_request(server, captchas, expected):
    files = [(f"image{i}", (p.name, p.read_bytes(), 'image/png'))
             for i, p in enumerate(captchas[:MAX_IMAGES])]
    answer = requests.post(f"{server}/read", files=files, timeout=10)
    assert answer.status_code == 200
    results = answer.json()['results']
    assert [r.pop('name') for r in results] == [p.name for p in captchas[:MAX_IMAGES]]
    assert results == [expected[str(p)] for p in captchas[:MAX_IMAGES]]
    one = requests.post(f"{server}/read", files=files[:1], timeout=10).json()
    assert one == expected[str(captchas[0])]


def test_concurrent_clients_all_get_their_own_answer(server, captchas, expected):
    def read(path):
        return requests.post(f"{server}/read", data=path.read_bytes(), timeout=30).json()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(read, captchas * 3))
    assert answers == [expected[str(p)] for p in captchas * 3]


def test_bad_requests_get_a_4xx_and_the_service_goes_on(server, captchas, expected):
    good = captchas[0].read_bytes()
    files = [(f"image{i}", (f"{i}.png", good, 'image/png')) for i in range(MAX_IMAGES + 1)]
    bad = {'empty': (400, {'data': b''}, 'empty'),
           'not an image': (400, {'data': b'hello, this is text'}, 'cannot read'),
           'truncated': (400, {'data': good[:len(good) // 2]}, 'truncated'),
           'too large': (413, {'data': good + b'\0' * MAX_BYTES}, f"{MAX_BYTES:,}-byte limit"),
           'too many': (413, {'files': files}, f"more than {MAX_IMAGES} images"),
           'empty upload': (400, {'files': {'x': ('x', b'', 'text/plain')}}, 'empty')}
    for name, (status, request, said) in bad.items():
        answer = requests.post(f"{server}/read", timeout=10, **request)
        assert answer.status_code == status, name
        assert said in answer.json()['error'], name
    assert requests.get(f"{server}/nowhere", timeout=10).status_code == 404
    assert requests.get(f"{server}/read", timeout=10).status_code == 405
    answer = requests.post(f"{server}/read", data=good, timeout=10)
    assert answer.json() == expected[str(captchas[0])]


def test_a_port_in_use_is_a_one_line_error(server):
    port = server.rsplit(':', 1)[1]
    result = run_script('lstm_ocr_serve.py', '--onnx', SHIPPED_ONNX, '--port', port)
    assert 'already in use' in assert_one_line_error(result)


def test_a_bad_model_is_a_one_line_error(tmp_path):
    result = run_script('lstm_ocr_serve.py', '--onnx', tmp_path / 'none.onnx', '--port', 0)
    assert 'not found' in assert_one_line_error(result)


def test_the_service_reads_an_mxnet_checkpoint_too(captchas, expected):
    process, url = start_server('--prefix', SHIPPED_PREFIX, '--epoch', SHIPPED_EPOCH)
    try:
        answer = requests.post(f"{url}/read", data=captchas[0].read_bytes(), timeout=30)
        assert answer.json()['text'] == expected[str(captchas[0])]['text']
        assert requests.get(f"{url}/model", timeout=10).json()['runtime'] == 'MXNetModel'
    finally:
        stop_server(process)


class GatedModel:
    """The shipped ONNX model, holding its first network call until `gate` opens and
    recording the size of every call."""

    def __init__(self):
        self.model = ONNXModel(SHIPPED_ONNX, batch_size=32)
        self.config, self.batch_size = self.model.config, self.model.batch_size
        self.gate, self.calls = threading.Event(), []

    def probabilities(self, inputs):
        self.gate.wait(timeout=30)
        self.calls.append(len(inputs))
        return self.model.probabilities(inputs)


def test_requests_arriving_together_share_one_network_call(captchas):
    model = GatedModel()
    views = [model.config.conversion.read(str(p))[None] for p in captchas]
    images = [[p.read_bytes()] for p in captchas]

    async def scenario():
        reader = BatchReader(model)
        reader.start()
        first = asyncio.ensure_future(reader.read(views[0], images[0]))
        await asyncio.sleep(0.2)  # the first call is under way, held at the gate
        rest = [asyncio.ensure_future(reader.read(v, i)) for v, i in zip(views[1:], images[1:])]
        await asyncio.sleep(0.2)
        model.gate.set()
        answers = await asyncio.gather(first, *rest)
        reader.stop()
        return answers

    answers = asyncio.run(scenario())
    # one call for the first request, then one for all the rest; after each, one more for
    # the other views of its images read unsurely (reading.read_views), if there are any
    firsts = read_batches(model.model, np.concatenate(views), 0)
    other_counts = [sum(map(len, other_views(model.config, view[0], cv2.imread(str(path)))))
                    if is_unsure(first) else 0
                    for view, path, first in zip(views, captchas, firsts)]
    again = [sum(other_counts[:1]), sum(other_counts[1:])]
    assert model.calls == [1] + again[:1] * bool(again[0]) + [len(captchas) - 1] + (
        again[1:] * bool(again[1]))
    alone = read_views(model.model, [v[0] for v in views],
                       images=[cv2.imread(str(p)) for p in captchas])
    assert [a[0].text for a in answers] == [r.text for r in alone]

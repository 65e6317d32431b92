"""The reading service under hostile requests (issue #35): a real server on 127.0.0.1 answers
each with a 4xx (or a 503) within a few seconds, and all the while answers GET /health within
HEALTH_BOUND_S, reads a good image correctly, keeps its memory under RSS_BOUND_MB and logs no
traceback."""
import contextlib
import re
import subprocess
import sys
import threading
import time

import cv2
import pytest
import requests

from conftest import REPO, run_script
from reader.onnx_reader import ONNXModel
from reader.reading import read_views, reading_record
from tools import hostile_inputs
from training.model_config import SHIPPED_ONNX

BODY_TIMEOUT_S = 1  # the server's --body_timeout here: small, so that stalls end soon
ANSWER_BOUND_S = 5  # a refusal comes within this (a stalled body: after the body timeout)
HEALTH_BOUND_S = 2
RSS_BOUND_MB = 500
RSS_KEPT_BOUND_MB = 50  # what a burst of failed requests may leave held


class Server:
    """lstm_ocr_serve.py --onnx on a free port of 127.0.0.1, its log kept."""

    def __init__(self, *options):
        self.process = subprocess.Popen(
            [sys.executable, f"{REPO}/lstm_ocr_serve.py", '--onnx', SHIPPED_ONNX, '--port', '0',
             *map(str, options)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.log = []
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r'Serving .* on (http://127\.0\.0\.1:\d+)', line)
            if found:
                self.url = found.group(1)
                self.reader = threading.Thread(target=self.keep_log, daemon=True)
                self.reader.start()
                return
        self.process.wait(timeout=30)
        pytest.fail(f"the server did not start: {''.join(self.log)}")

    def keep_log(self):
        self.log.extend(self.process.stderr)

    def memory_mb(self, field):
        """VmRSS (now) or VmHWM (the peak so far) of the server process, in MB."""
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(re.search(rf'{field}:\s+(\d+)', f.read()).group(1)) / 1024

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)


@pytest.fixture(scope='module')
def good_image(tmp_path_factory, font):
    """A captcha's PNG bytes and what the shipped ONNX model reads in it."""
    path = tmp_path_factory.mktemp('good') / 'good.png'
    assert run_script('captcha_generator.py', font, path).returncode == 0
    model = ONNXModel(SHIPPED_ONNX)
    image = cv2.imread(str(path))
    view = model.config.conversion.view(image)
    reading = read_views(model, view[None], images=[image])[0]
    return path.read_bytes(), reading_record(reading, model.config.alphabet)


@pytest.fixture(scope='module')
def server():
    server = Server('--body_timeout', BODY_TIMEOUT_S)
    yield server
    server.stop()
    assert 'Traceback' not in ''.join(server.log), ''.join(server.log)


@contextlib.contextmanager
def watched(server, good_image):
    """While the block runs: GET /health every 0.2 s (each within HEALTH_BOUND_S) and a good
    POST /read every 0.5 s (each read correctly); after it, both went well and the server's
    peak memory and memory now are under RSS_BOUND_MB."""
    stop, failures, counts = threading.Event(), [], {'health': 0, 'read': 0}
    data, expected = good_image

    def watch():
        last_read = 0
        while not stop.is_set():
            try:
                answer = requests.get(f"{server.url}/health", timeout=HEALTH_BOUND_S)
                counts['health'] += answer.status_code == 200
                if time.monotonic() - last_read > 0.5:
                    last_read = time.monotonic()
                    answer = requests.post(f"{server.url}/read", data=data, timeout=10)
                    if answer.status_code != 200 or answer.json() != expected:
                        failures.append(f"a good read: {answer.status_code} {answer.text}")
                    counts['read'] += 1
            except requests.RequestException as err:
                failures.append(repr(err))
            stop.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert not failures
    assert counts['health'] > 0 and counts['read'] > 0
    assert server.memory_mb('VmHWM') < RSS_BOUND_MB
    assert server.memory_mb('VmRSS') < RSS_BOUND_MB


def test_image_bombs_are_refused_from_their_headers(server, good_image):
    bombs = hostile_inputs.image_bombs()
    with watched(server, good_image):
        for name, data in bombs.items():
            answer = requests.post(f"{server.url}/read", data=data, timeout=ANSWER_BOUND_S)
            assert answer.status_code == 413, name
            assert 'past the limits' in answer.json()['error'] or \
                'too large' in answer.json()['error'], name
        files = [(f"image{i}", (f"{i}.png", bombs['png_4000x4000'], 'image/png'))
                 for i in range(32)]  # the 32 x 2 KB images of 4000 x 4000
        answer = requests.post(f"{server.url}/read", files=files, timeout=ANSWER_BOUND_S)
        assert answer.status_code == 413 and '4000 x 4000' not in answer.text
        many = [(f"image{i}", (f"{i}.png", hostile_inputs.png_of(2000, 2000), 'image/png'))
                for i in range(5)]  # each within the limits, together over the request's
        answer = requests.post(f"{server.url}/read", files=many, timeout=ANSWER_BOUND_S)
        assert answer.status_code == 413 and 'in all' in answer.json()['error']


def test_malformed_requests_get_a_4xx_json_error(server, good_image):
    with watched(server, good_image):
        for name, raw in hostile_inputs.malformed_requests(good_image[0]).items():
            status, answer = hostile_inputs.send_raw(server.url, raw, timeout=ANSWER_BOUND_S)
            assert status is not None and 400 <= status < 500, (name, answer)
            assert b'{"error": ' in answer, name


@pytest.mark.parametrize('kind', ['stall', 'trickle', 'chunked'])
def test_a_body_that_never_ends_gets_a_408(kind, server, good_image):
    with watched(server, good_image):
        status, answer = hostile_inputs.stalled_request(server.url, kind, good_image[0],
                                                        timeout=ANSWER_BOUND_S)
    assert status == 408 and b'--body_timeout' in answer


def hang_up(sockets):
    for sock in sockets:
        sock.close()


def test_stalled_large_uploads_are_cut_off_and_their_memory_returned(server, good_image):
    """The issue's ten stalled 31 MB uploads: over --max_bytes (1 MB) they are refused at
    once; ten just under it stall until the body timeout; memory held is given back."""
    before = server.memory_mb('VmRSS')
    with watched(server, good_image):
        over = []
        for _ in range(10):
            with contextlib.suppress(OSError):  # the server may close before all is sent
                over.append(hostile_inputs.stalled_upload(server.url, 31 << 20, 2 << 20))
        statuses = []
        for sock in over:
            with contextlib.suppress(OSError):
                statuses.append(hostile_inputs.status_of(hostile_inputs.read_answer(sock)))
        assert all(status == 413 for status in statuses) and statuses
        hang_up(over)
        under = [hostile_inputs.stalled_upload(server.url, 31 << 20, 900_000)
                 for _ in range(10)]
        assert [hostile_inputs.status_of(hostile_inputs.read_answer(sock))
                for sock in under] == [408] * 10
        hang_up(under)
        lost = [hostile_inputs.stalled_upload(server.url, 31 << 20, 900_000)
                for _ in range(10)]
        hang_up(lost)  # clients that give up before the server does
        time.sleep(2 * BODY_TIMEOUT_S)
    assert server.memory_mb('VmRSS') - before < RSS_KEPT_BOUND_MB


def test_a_full_service_answers_503_with_retry_after(good_image):
    busy = Server('--max_pending', 2, '--body_timeout', 60)
    try:
        stalled = [hostile_inputs.stalled_upload(busy.url, 1000, 10) for _ in range(2)]
        deadline = time.monotonic() + 30
        while (answer := requests.post(f"{busy.url}/read", data=good_image[0],
                                       timeout=ANSWER_BOUND_S)).status_code != 503:
            assert time.monotonic() < deadline, "the stalled requests never filled it"
            time.sleep(0.1)
        assert answer.headers['Retry-After'] == '1' and '--max_pending' in answer.json()['error']
        assert requests.get(f"{busy.url}/health", timeout=HEALTH_BOUND_S).status_code == 200
        hang_up(stalled)
        while (answer := requests.post(f"{busy.url}/read", data=good_image[0],
                                       timeout=ANSWER_BOUND_S)).status_code == 503:
            assert time.monotonic() < deadline, "the hung-up requests were never let go"
            time.sleep(0.1)
        assert answer.status_code == 200 and answer.json() == good_image[1]
    finally:
        busy.stop()
    assert 'Traceback' not in ''.join(busy.log)


def test_model_settings_show_no_server_path(server):
    answer = requests.get(f"{server.url}/model", timeout=ANSWER_BOUND_S)
    assert answer.json()['source'] == 'ocr.onnx'
    assert REPO not in answer.text and '/model/' not in answer.text


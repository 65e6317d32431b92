"""Benchmarks of the LSTM-OCR example: one line per figure, `name value unit`.

    python tools/bench.py           # every figure, under 10 minutes on a 2-core laptop
    python tools/bench.py --quick   # fewer and shorter repetitions (noisier), about a minute

Where a figure has a baseline measured in the same run, a line `name_ratio value` follows.
The baselines are the original example's ways, rebuilt here from its description:

- generation: one captcha at a time through the `captcha` package's PNG output, decoded
  again with OpenCV, each sample put on a multiprocessing queue on its own;
- compute: the plain unrolled symbol, one FullyConnected per step for the input and for the
  hidden state, SliceChannel to split the input and Concat to gather the steps (2x100 LSTM);
- end to end: both together, fed to Module as lstm_ocr_train.py's loop does;
- the CTC heads: contrib.ctc_loss against the WarpCTC head (warpctc.py);
- reading: the shipped model through MXNet against its ONNX export through ONNX Runtime
  (export_onnx.py), batches of 256 and the CLI on one image, and whether both read the same.

The HTTP service (lstm_ocr_serve.py --onnx) is load-tested on 127.0.0.1 with a bounded
number of requests from 1, 8 and 32 concurrent clients, then with 1 request in 10 bad, then
from 8 and 32 with 1 in 10 hostile (image bombs, malformed requests, stalled bodies), with
the service's peak memory.

Training throughput is measured through the same Module calls Module.fit makes
(forward_backward, update), on batches from the same iterators lstm_ocr_train.py uses.
Like the scripts, MXNet gets one core when a captcha worker needs the other, and every core
for inference and for training from a RecordIO file.
"""
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import cv2
import mxnet as mx
import numpy as np
import requests
from captcha.image import ImageCaptcha

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import lstm
from captcha_generator import MPCaptcha, TextCaptcha, encoded
from common import ctc, datasets
from common.alphabet import Alphabet
from common.captcha_styles import CAPTCHA_HEIGHT, CAPTCHA_WIDTH
from common.cli import Parser, use_every_core
from common.fonts import TRAINING_FONTS
from common.image_conversion import Conversion, decode_image, network_input
from hyperparameters import RECIPES, XAVIER
from ocr_iter import OCRIter
from reader.mxnet_reader import MXNetModel
from reader.onnx_reader import ONNXModel
from reader.reading import read_views
from tools import hostile_inputs, original_example
from training.model_config import SHIPPED_EPOCH, SHIPPED_ONNX, SHIPPED_PREFIX, ModelConfig

NUM_LABEL, BATCH = 4, 128
VIEW = Conversion()  # the original's: 80 columns of 30 pixels
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report(name, value, unit=''):
    print(f"{name} {value:.4g} {unit}".rstrip(), flush=True)


def in_new_process(function, *args):
    """function(*args) in a new interpreter whose mxnet uses every core, as the scripts that
    have the machine to themselves do. This process keeps MXNet's default (one core here),
    as lstm_ocr_train.py does beside its captcha worker: cli.use_every_core acts only before
    mxnet is imported, and this process imported it first."""
    use_every_core()
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        return pool.apply(function, args)


def median_seconds(run, repeats, warmup=2):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- generation -------------------------------------------------------------------------

def seed_style_worker(samples, fonts, stop):
    """The original's generator: PNG bytes from the captcha package, decoded again, one
    sample per queue item."""
    captcha, rng = ImageCaptcha(width=CAPTCHA_WIDTH, height=CAPTCHA_HEIGHT, fonts=fonts), \
        np.random.default_rng()
    digits = Alphabet()
    while not stop.is_set():
        text = ''.join(map(str, rng.integers(0, 10, rng.integers(3, 5))))
        png = captcha.generate(text).getvalue()
        gray = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
        samples.put((cv2.resize(gray, (VIEW.width, VIEW.height)),
                     digits.encode(text, NUM_LABEL)))


def seed_style_batches(fonts):
    """A batch source in the original's way: one worker, samples gathered in the trainer."""
    context = multiprocessing.get_context('spawn')
    samples, stop = context.Queue(4 * BATCH), context.Event()
    worker = context.Process(target=seed_style_worker, args=(samples, fonts, stop), daemon=True)
    worker.start()

    class Source:
        def get_batch(self, batch_size):
            pairs = [samples.get() for _ in range(batch_size)]
            return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

        def reset(self):
            stop.set()
            worker.join(5)
            worker.kill()
    return Source()


def our_batches(fonts, batch_size=BATCH):
    """Worker-drawn batches through shared memory, as lstm_ocr_train.py gets them for the
    fast recipe (its input conversion included)."""
    source = MPCaptcha(fonts, num_processes=1, max_queue_size=2, batch_size=batch_size,
                       conversion=Conversion(RECIPES['fast'].conversion))
    source.start()
    return source


BUFFERED_BATCHES = 5  # more batches than any source holds ready before anyone reads


def images_per_s(start_source, batches, batch_size=BATCH):
    """Sustained rate of a freshly started source: what it had buffered is drained first."""
    source = start_source()
    try:
        for _ in range(BUFFERED_BATCHES):
            source.get_batch(batch_size)
        start = time.perf_counter()
        for _ in range(batches):
            source.get_batch(batch_size)
        return batches * batch_size / (time.perf_counter() - start)
    finally:
        source.reset()


def bench_generation(fonts, batches):
    base_rate = images_per_s(lambda: seed_style_batches(fonts), batches)
    our_rate = images_per_s(lambda: our_batches(fonts), batches)
    report('gen_images_per_s_per_proc', our_rate, 'images/s')
    report('gen_images_per_s_per_proc_ratio', our_rate / base_rate)
    report('gen_baseline_images_per_s_per_proc', base_rate, 'images/s')


# --- compute ----------------------------------------------------------------------------

def original_symbol():
    """The original example's training graph (original_example.py) and its state inputs."""
    return original_example.training_symbol(), lstm.init_states(BATCH, 2, 100)


def recipe_symbol(recipe, rnn, batch_size=BATCH):
    """A recipe's network (hyperparameters.py) with the ctc head, and its initial-state inputs:
    'fast' is the default network, 'seed' the original 2x100 one on raw pixels."""
    config = ModelConfig(replace(RECIPES[recipe], rnn=rnn))
    return lstm.config_network(config, 'ctc'), lstm.config_init_states(config, batch_size)


def training_module(symbol, init_states, batch_size=BATCH, view=VIEW, num_label=NUM_LABEL,
                    optimizer='adam', learning_rate=0.001):
    """`symbol` bound for training on batches of `view`s, initialised as lstm_ocr_train.py
    initialises a fresh run."""
    module = mx.mod.Module(symbol, data_names=['data'] + [n for n, _ in init_states],
                           label_names=['label'])
    module.bind([('data', (batch_size, view.width, view.height))] + init_states,
                [('label', (batch_size, num_label))])
    module.init_params(mx.init.Xavier(**XAVIER))
    module.init_optimizer(optimizer=optimizer, optimizer_params={'learning_rate': learning_rate})
    return module


def captcha_batch(drawer, batch_size, init_states):
    """One DataBatch of `batch_size` captchas from a TextCaptcha, with zero initial states."""
    views, labels = drawer.get_batch(batch_size)
    return mx.io.DataBatch([mx.nd.array(network_input(views))]
                           + [mx.nd.zeros(s) for _, s in init_states],
                           [mx.nd.array(labels)])


def train_step(module, batch):
    module.forward_backward(batch)
    module.update()
    module.get_outputs()[0].wait_to_read()


def compute_samples_per_s(symbol, init_states, repeats):
    """Forward+backward+update of one fixed batch of 128 real captchas."""
    module = training_module(symbol, init_states)
    batch = captcha_batch(TextCaptcha(TRAINING_FONTS[:1], seed=0), BATCH, init_states)
    return BATCH / median_seconds(lambda: train_step(module, batch), repeats)


def bench_compute(repeats):
    baseline = compute_samples_per_s(*original_symbol(), repeats)
    figures = [('compute_unrolled_samples_per_s', recipe_symbol('fast', 'unrolled')),
               ('compute_fused_samples_per_s', recipe_symbol('fast', 'fused')),
               ('compute_seed_net_unrolled_samples_per_s', recipe_symbol('seed', 'unrolled')),
               ('compute_seed_net_fused_samples_per_s', recipe_symbol('seed', 'fused'))]
    report('compute_baseline_samples_per_s', baseline, 'samples/s')
    for name, (symbol, init_states) in figures:
        rate = compute_samples_per_s(symbol, init_states, repeats)
        report(name, rate, 'samples/s')
        report(f"{name}_ratio", rate / baseline)


def ctc_head_step(loss_type):
    """Forward+backward of one CTC head alone on fixed activations for a batch of 128."""
    scores = mx.sym.Variable('data')
    if loss_type == 'ctc':
        head = lstm.add_ctc_loss(scores, VIEW.width)
    else:
        head = lstm.add_warpctc_loss(scores, VIEW.width, NUM_LABEL)
    rng = np.random.RandomState(0)
    executor = head.simple_bind(mx.cpu(), data=(VIEW.width * BATCH, 11),
                                label=(BATCH, NUM_LABEL), grad_req={'data': 'write',
                                                                     'label': 'null'})
    executor.arg_dict['data'][:] = rng.normal(0, 1, (VIEW.width * BATCH, 11))
    executor.arg_dict['label'][:] = rng.randint(1, 11, (BATCH, NUM_LABEL))

    def step():
        executor.forward(is_train=True)
        executor.backward()
        executor.grad_dict['data'].wait_to_read()
    return step


def bench_ctc_heads(repeats):
    contrib = median_seconds(ctc_head_step('ctc'), repeats)
    warp = median_seconds(ctc_head_step('warpctc'), repeats)
    report('ctc_head_contrib_ms', contrib * 1000, 'ms/batch128')
    report('ctc_head_warpctc_ms', warp * 1000, 'ms/batch128')
    report('ctc_head_warpctc_ratio', warp / contrib)


# --- end to end -------------------------------------------------------------------------

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20


def train_samples_per_s(symbol, init_states, source, batch_size, batches, rss_every=0):
    """Batches from `source` through OCRIter into Module, as Module.fit runs them ->
    (samples/s, RSS in MB after each `rss_every` batches)."""
    module = training_module(symbol, init_states, batch_size)
    warmup = BUFFERED_BATCHES  # drains what workers buffered, warms MXNet up
    data = OCRIter(batches + warmup, batch_size, init_states, source, NUM_LABEL,
                   (VIEW.width, VIEW.height))
    for _ in range(warmup):
        train_step(module, data.next())
    rss, start = [], time.perf_counter()
    for n in range(1, batches + 1):
        train_step(module, data.next())
        if rss_every and n % rss_every == 0:
            rss.append(current_rss_mb())
    return batches * batch_size / (time.perf_counter() - start), rss


def record_training_rate(fonts, batch_size, batches):
    """The fused network fed from a RecordIO file, as lstm_ocr_train.py --train_rec runs it:
    with no captcha worker, on every core (run it in_new_process)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'train.rec')
        datasets.write_records(path, encoded(TextCaptcha(fonts, seed=0), 4 * batch_size),
                               4 * batch_size)
        views, texts, names = datasets.load(path, VIEW, folder)
        labels = datasets.encode_labels(texts, names, Alphabet(), NUM_LABEL, VIEW.width)
        records = datasets.LabelledSet(views, labels, shuffle=True, seed=0)
        rate, _ = train_samples_per_s(*recipe_symbol('fast', 'fused', batch_size), records,
                                      batch_size, batches)
    return rate


def bench_end_to_end(fonts, batches):
    batch_size = RECIPES['fast'].batch_size
    baseline_source = seed_style_batches(fonts)
    try:
        base, _ = train_samples_per_s(*original_symbol(), baseline_source, BATCH,
                                      max(2, batches * batch_size // BATCH))
    finally:
        baseline_source.reset()
    report('train_e2e_baseline_samples_per_s', base, 'samples/s')
    for name, rnn in (('train_e2e_samples_per_s', 'unrolled'),
                      ('train_e2e_fused_samples_per_s', 'fused')):
        source = our_batches(fonts, batch_size)
        try:
            rate, _ = train_samples_per_s(*recipe_symbol('fast', rnn, batch_size), source,
                                          batch_size, batches)
        finally:
            source.reset()
        report(name, rate, 'samples/s')
        report(f"{name}_ratio", rate / base)
    rate = in_new_process(record_training_rate, fonts, batch_size, batches)
    report('train_rec_fused_samples_per_s', rate, 'samples/s')
    report('train_rec_fused_samples_per_s_ratio', rate / base)


def bench_memory(fonts, batches):
    """RSS of this process over a long training loop on fresh captchas (the fused network:
    the same data pipeline and Module calls as the default, in half the time)."""
    batch_size = RECIPES['fast'].batch_size
    source = our_batches(fonts, batch_size)
    try:
        _, rss = train_samples_per_s(*recipe_symbol('fast', 'fused', batch_size), source,
                                     batch_size, batches, rss_every=batches // 10)
    finally:
        source.reset()
    report('train_rss_after_10pct_mb', rss[0], 'MB')
    report('train_rss_growth_mb', rss[-1] - rss[0], f"MB (batches {batches // 10}-{batches})")
    report('train_peak_rss_mb', rss_mb(), 'MB')


# --- inference --------------------------------------------------------------------------

def captchas_for(model, fonts, seed, count):
    """`count` fresh captchas -> (BGR images, their views as `model` reads them first
    (Conversion.view, its own conversion and size), uint8 (count, height, width))."""
    captcha = TextCaptcha(fonts, seed=seed)
    images = [captcha.draw(captcha.random_text()) for _ in range(count)]
    return images, np.stack([model.config.conversion.view(image) for image in images])


def batched_read_rate(fonts, repeats):
    """Images/s of the shipped model reading batches of 256, as lstm_ocr_infer.py does (every
    view its settings name): on every core (run it in_new_process)."""
    model = MXNetModel(SHIPPED_PREFIX, SHIPPED_EPOCH, batch_size=256)
    images, views = captchas_for(model, fonts, 0, 256)
    return 256 / median_seconds(lambda: read_views(model, views, images=images), repeats)


def onnx_read_rate(fonts, repeats):
    """Images/s of the shipped model's ONNX export reading batches of 256 through ONNX
    Runtime, as lstm_ocr_infer.py --onnx does, every view its settings name (run it
    in_new_process, like the MXNet one)."""
    model = ONNXModel(SHIPPED_ONNX, batch_size=256)
    images, views = captchas_for(model, fonts, 0, 256)
    return 256 / median_seconds(lambda: read_views(model, views, images=images), repeats)


def cli_one_image_s(fonts, repeats, *options):
    """Wall seconds of `lstm_ocr_infer.py [options] sample.png`, imports included."""
    with tempfile.TemporaryDirectory() as folder:
        sample = os.path.join(folder, 'sample.png')
        cv2.imwrite(sample, TextCaptcha(fonts, seed=0).draw('0089'))
        command = [sys.executable, os.path.join(REPO, 'lstm_ocr_infer.py'), *options, sample]
        return median_seconds(lambda: subprocess.run(command, check=True, capture_output=True),
                              repeats // 4 + 1, warmup=1)


def bench_inference(fonts, repeats):
    mxnet_rate = in_new_process(batched_read_rate, fonts, repeats)
    onnx_rate = in_new_process(onnx_read_rate, fonts, repeats)
    report('infer_images_per_s', mxnet_rate, 'images/s')
    report('infer_onnx_images_per_s', onnx_rate, 'images/s')
    report('infer_onnx_images_per_s_ratio', onnx_rate / mxnet_rate)
    mxnet_seconds = cli_one_image_s(fonts, repeats)
    onnx_seconds = cli_one_image_s(fonts, repeats, '--onnx', SHIPPED_ONNX)
    report('infer_cli_one_image_s', mxnet_seconds, 's')
    report('infer_onnx_cli_one_image_s', onnx_seconds, 's')
    report('infer_onnx_cli_one_image_s_ratio', onnx_seconds / mxnet_seconds)


def bench_onnx_parity(fonts, count):
    """The shipped checkpoint read by MXNet and its export read by ONNX Runtime, on the same
    fresh captchas: how many texts differ, and the largest per-step probability gap."""
    mxnet_model = MXNetModel(SHIPPED_PREFIX, SHIPPED_EPOCH, batch_size=256)
    _, views = captchas_for(mxnet_model, fonts, 12, count)
    onnx_model = ONNXModel(SHIPPED_ONNX, batch_size=256)
    texts_differ, largest_gap = 0, 0.0
    for start in range(0, count, 256):
        inputs = network_input(views[start:start + 256])
        by_mxnet, by_onnx = mxnet_model.probabilities(inputs), onnx_model.probabilities(inputs)
        largest_gap = max(largest_gap, float(np.abs(by_mxnet - by_onnx).max()))
        texts_differ += sum(a != b for (a, _), (b, _) in zip(ctc.decode(by_mxnet),
                                                             ctc.decode(by_onnx)))
    report('onnx_parity_images', count, 'images')
    report('onnx_parity_texts_differ', texts_differ, 'images')
    report('onnx_parity_max_probability_gap', largest_gap)


# --- the HTTP service -------------------------------------------------------------------

SERVICE_BODY_TIMEOUT_S = 2  # the service's --body_timeout here: stalled bodies end soon


def start_service():
    """lstm_ocr_serve.py --onnx on a free port of 127.0.0.1 -> (process, base URL)."""
    process = subprocess.Popen([sys.executable, os.path.join(REPO, 'lstm_ocr_serve.py'),
                                '--onnx', SHIPPED_ONNX, '--port', '0',
                                '--body_timeout', str(SERVICE_BODY_TIMEOUT_S)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if ' on http://' in line:
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, line.split(' on ')[1].split()[0]
    raise RuntimeError(f"the service did not start (exit code {process.wait()})")


def service_memory_mb(process, field):
    """VmRSS (now) or VmHWM (the peak so far) of the service's process, in MB."""
    with open(f"/proc/{process.pid}/status") as f:
        return int(next(line for line in f if line.startswith(field)).split()[1]) / 1024


def hostile_requests(good_png):
    """The hostile requests of the hostile load, in turn: image bombs, malformed requests
    and bodies that stall (tools/hostile_inputs.py)."""
    bombs = [('body', data, 413) for data in hostile_inputs.image_bombs().values()]
    malformed = [('raw', data, 400) for data in
                 hostile_inputs.malformed_requests(good_png).values()]
    stalled = [('stall', good_png, 408), ('chunked', good_png, 408)]
    return [r for group in zip(bombs, malformed, stalled * 5) for r in group]


def load_requests(fonts, count, bad_every, hostile=False):
    """`count` requests -> [(kind, body, expected: the text as the shipped ONNX model reads
    it alone, or the status of a refusal)]: PNG captchas, and every `bad_every`-th one (0:
    none) bad (garbage, a truncated captcha, empty) or hostile (hostile_requests), each in
    turn."""
    captcha = TextCaptcha(fonts, seed=13)
    model = ONNXModel(SHIPPED_ONNX)
    items, refusals = [], None
    for i in range(count):
        png = cv2.imencode('.png', captcha.draw(str(i % 10000).zfill(4)))[1].tobytes()
        if refusals is None:
            refusals = hostile_requests(png) if hostile else [
                ('body', b'not an image', 400), ('body', png[:len(png) // 2], 400),
                ('body', b'', 400)]
        if bad_every and i % bad_every == bad_every - 1:
            items.append(refusals[i // bad_every % len(refusals)])
        else:
            image = decode_image(png)
            view = model.config.conversion.view(image)
            items.append(('body', png, read_views(model, view[None], images=[image])[0].text))
    return items


def send_request(url, session, kind, body, expected):
    """One request of a load test -> (its status, whether it was answered as expected: a
    good image's text read, a refusal's status; 'raw' ones: any 4xx)."""
    if kind == 'body':
        answer = session.post(f"{url}/read", data=body, timeout=30)
        if isinstance(expected, str):
            return answer.status_code, (answer.status_code == 200 and
                                        answer.json()['text'] == expected)
        return answer.status_code, answer.status_code == expected
    if kind == 'raw':
        status, _ = hostile_inputs.send_raw(url, body)
        return status, status is not None and 400 <= status < 500
    status, _ = hostile_inputs.stalled_request(url, kind, body)
    return status, status == expected


def load_test(url, items, clients, seconds_limit=120):
    """Send every request from `clients` threads at once (each waits for its answer) ->
    (requests/s, latencies in s of the good requests, 5xx answers, requests not answered
    as expected)."""
    local = threading.local()
    deadline = time.monotonic() + seconds_limit

    def send(item):
        if time.monotonic() > deadline:
            return None
        if not hasattr(local, 'session'):
            local.session = requests.Session()
        start = time.perf_counter()
        status, right = send_request(url, local.session, *item)
        return time.perf_counter() - start, isinstance(item[2], str), status, right

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = [r for r in pool.map(send, items) if r is not None]
    elapsed = time.perf_counter() - start
    return (len(results) / elapsed, [seconds for seconds, good, _, _ in results if good],
            sum(status is None or status >= 500 for _, _, status, _ in results),
            sum(not right for _, _, _, right in results))


LOADS = (('', 0, False, (1, 8, 32)), ('_mixed', 10, False, (1, 8, 32)),
         ('_hostile', 10, True, (8, 32)))


def bench_service(fonts, count):
    """The service under load on 127.0.0.1, one image a request, from 1, 8 and 32 concurrent
    clients: clean; with 1 request in 10 bad (garbage, empty, truncated); and from 8 and 32
    with 1 in 10 hostile (image bombs, malformed multipart and encodings, stalled bodies,
    which end at the service's --body_timeout of SERVICE_BODY_TIMEOUT_S). Latencies are the
    good requests'; the service's peak memory is reported after each load."""
    process, url = start_service()
    try:
        for kind, bad_every, hostile, client_counts in LOADS:
            items = load_requests(fonts, count, bad_every, hostile)
            load_test(url, items[:20], 4)  # warm-up
            for clients in client_counts:
                rate, latencies, errors, wrong = load_test(url, items, clients)
                name = f"serve{kind}_c{clients}"
                report(f"{name}_requests_per_s", rate, 'requests/s')
                report(f"{name}_p50_ms", 1000 * float(np.percentile(latencies, 50)), 'ms')
                report(f"{name}_p99_ms", 1000 * float(np.percentile(latencies, 99)), 'ms')
                report(f"{name}_5xx", errors, 'answers')
                report(f"{name}_wrong", wrong, 'answers')
            report(f"serve{kind}_peak_rss_mb", service_memory_mb(process, 'VmHWM'), 'MB')
        alive = requests.get(f"{url}/health", timeout=10).status_code == 200
        report('serve_alive_after_load', int(alive))
        report('serve_rss_after_load_mb', service_memory_mb(process, 'VmRSS'), 'MB')
    finally:
        process.terminate()
        process.wait(30)


def main():
    parser = Parser(description="Benchmarks of the LSTM-OCR example, one figure per line.")
    parser.add_argument('--quick', action='store_true', help="fewer repetitions")
    args = parser.parse_args()
    fonts = [os.path.join(REPO, 'font', os.path.basename(f)) for f in TRAINING_FONTS]
    fonts = [f for f in fonts if os.path.isfile(f)] or TRAINING_FONTS[:1]
    quick = args.quick
    bench_generation(fonts, batches=1 if quick else 8)
    bench_compute(repeats=1 if quick else 10)
    bench_ctc_heads(repeats=3 if quick else 20)
    bench_end_to_end(fonts, batches=6 if quick else 120)
    bench_inference(fonts, repeats=2 if quick else 12)
    bench_onnx_parity(fonts, count=256 if quick else 3000)
    bench_service(fonts, count=60 if quick else 600)
    bench_memory(fonts, batches=20 if quick else 2000)


if __name__ == '__main__':
    main()

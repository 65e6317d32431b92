"""Hostile files on the training side and among the files written: links, loops,
folders, pipes, unreadable and huge files among labelled images; huge labels; hostile
records; a cache folder that cannot be one; a file-size limit and a kill while writing;
outputs that are devices, folders or the input itself. Each is a real CLI process that ends
with one error line (or, with --skip_bad, trains without the bad file) and leaves no
temporary file behind."""
import os
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys

import mxnet as mx
import pytest

from common.labelled_files import LONGEST_LABEL
from conftest import (
    REPO,
    assert_error_ends_the_log,
    assert_one_line_error,
    file_permissions_apply,
    run_script,
)

pytestmark = pytest.mark.slow

GIGABYTES_3 = 3 * 2 ** 30
def file_size_limit(limit):
    """preexec_fn: files of at most `limit` bytes; a write beyond fails with EFBIG."""
    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limited


def temporaries(folder):
    return [os.path.join(root, name) for root, _, names in os.walk(folder)
            for name in names if '.tmp' in name]


def train_on(data, tmp_path, *args, **options):
    """A one-epoch run on labelled data, batches of 2."""
    return run_script('lstm_ocr_train.py', '--train_data', data, '--cache_dir',
                      tmp_path / 'cache', '--prefix', tmp_path / 'ocr', '--batch_size', 2,
                      '--num_epoch', 1, *args, **options)


@pytest.fixture(scope='module')
def good_images(tmp_path_factory, font):
    """Eight labelled captchas, drawn once."""
    folder = tmp_path_factory.mktemp('good') / 'images'
    result = run_script('captcha_generator.py', font, '--length', 4, '--count', 8, '--out',
                        folder, '--seed', 1)
    assert result.returncode == 0, result.stderr
    return folder


def make_unreadable(path, good):
    shutil.copy(next(good.iterdir()), path)
    path.chmod(0)


def make_huge(path, good):
    with open(path, 'wb') as f:
        f.truncate(GIGABYTES_3)  # sparse: no disk used


HOSTILE_ENTRIES = {  # kind -> (make it at path, what the error says)
    'symlink-loop': (lambda path, good: path.symlink_to(path.name),
                     'Too many levels of symbolic links'),
    'dangling-link': (lambda path, good: path.symlink_to('missing.png'),
                      'a link to a missing file'),
    'folder': (lambda path, good: path.mkdir(), 'is a folder, not an image file'),
    'named-pipe': (lambda path, good: os.mkfifo(path), 'is a named pipe, not an image file'),
    'unreadable': (make_unreadable, 'Permission denied'),
    'sparse-3GB': (make_huge, f"has {GIGABYTES_3:,} bytes, more than 32 MB"),
}


@pytest.mark.parametrize('kind', HOSTILE_ENTRIES)
def test_a_hostile_entry_in_a_training_folder_is_named(kind, tmp_path, good_images):
    folder = tmp_path / 'mine'
    shutil.copytree(good_images, folder)
    make, says = HOSTILE_ENTRIES[kind]
    make(folder / '1234_bad.png', good_images)
    line = assert_error_ends_the_log(train_on(folder, tmp_path,
                                              preexec_fn=file_permissions_apply))
    assert '1 of 9 images cannot be read' in line and '--skip_bad' in line
    assert f"'{folder / '1234_bad.png'}'" in line and says in line
    assert not list(tmp_path.glob('cache/*.rec')) and not temporaries(tmp_path)


def test_skip_bad_leaves_every_hostile_entry_out(tmp_path, good_images):
    folder = tmp_path / 'mine'
    shutil.copytree(good_images, folder)
    for number, (make, _) in enumerate(HOSTILE_ENTRIES.values()):
        make(folder / f"{number}{number}{number}{number}_bad.png", good_images)
    result = train_on(folder, tmp_path, '--skip_bad', preexec_fn=file_permissions_apply)
    assert result.returncode == 0, result.stderr
    assert f"Leaving out {len(HOSTILE_ENTRIES)} of {len(HOSTILE_ENTRIES) + 8} images" in \
        result.stderr
    assert os.path.isfile(tmp_path / 'ocr-0001.params') and not temporaries(tmp_path)
    again = train_on(folder, tmp_path, preexec_fn=file_permissions_apply)  # no --skip_bad:
    assert 'cannot be read' in assert_error_ends_the_log(again)  # not the packing left short


@pytest.mark.parametrize('make,says', [
    (lambda path, image: path.write_text(f"{image},{'7' * 1_000_000}\n"),
     "line 1 is longer than"),
    (lambda path, image: path.write_text(f"{image},{'7' * (LONGEST_LABEL + 1)}\n"),
     f"line 1 has a label of {LONGEST_LABEL + 1} characters: no model reads more than "
     f"{LONGEST_LABEL}"),
    (lambda path, image: path.write_bytes(b'\xff\xfe' + 'x.png,12\n'.encode('utf-16-le')),
     'not UTF-8 text'),
    (lambda path, image: make_huge(path, None), 'line 1 is longer than'),
], ids=['million-character-label', 'label-too-long', 'utf-16', 'sparse-3GB-labels-file'])
def test_hostile_labels_files_are_refused_naming_the_file(make, says, tmp_path, good_images):
    labels = tmp_path / 'labels.csv'
    make(labels, next(good_images.iterdir()))
    line = assert_error_ends_the_log(train_on(labels, tmp_path))
    assert f"'{labels}'" in line and says in line


def test_a_labels_file_naming_a_huge_file_refuses_it_unread(tmp_path, good_images):
    huge = tmp_path / 'big.png'
    make_huge(huge, good_images)
    labels = tmp_path / 'labels.csv'
    labels.write_text(f"big.png,1234\n{next(good_images.iterdir())},5678\n")
    line = assert_error_ends_the_log(train_on(labels, tmp_path))
    assert f"'{huge}' has {GIGABYTES_3:,} bytes, more than 32 MB" in line


def gif_bomb():
    """A tiny GIF whose screen is 65535 x 65535 pixels: 17 GB decoded."""
    screen = struct.pack('<HHBBB', 65535, 65535, 0x80, 0, 0) + b'\0\0\0\xff\xff\xff'
    image = b',' + struct.pack('<HHHHB', 0, 0, 1, 1, 0) + b'\x02\x02\x44\x01\x00'
    return b'GIF89a' + screen + image + b';'


def write_rec(path, records):
    """(label codes, image bytes) -> a RecordIO dataset of text labels."""
    writer = mx.recordio.MXIndexedRecordIO(str(path.with_suffix('.idx')), str(path), 'w')
    for number, (codes, data) in enumerate(records):
        writer.write_idx(number, mx.recordio.pack(mx.recordio.IRHeader(0, codes, number, 1),
                                                  data))
    writer.close()


def good_records(good):
    return [([float(ord(c)) for c in image.name[:4]], image.read_bytes())
            for image in sorted(good.iterdir())]


def test_a_gif_bomb_record_stops_training_or_is_skipped(tmp_path, good_images):
    dataset = tmp_path / 'bomb.rec'
    write_rec(dataset, [([49.0, 50.0], gif_bomb())] + good_records(good_images))
    line = assert_error_ends_the_log(train_on(dataset, tmp_path))
    assert f"record 0 of '{dataset}'" in line and '--skip_bad' in line
    result = train_on(dataset, tmp_path, '--skip_bad')
    assert result.returncode == 0, result.stderr
    assert f"Leaving out 1 records of {dataset} that cannot be read: 0" in result.stderr


@pytest.mark.parametrize('codes', [[1e30], [float('nan')], [-5.0], [49.5],
                                   [49.0] * (LONGEST_LABEL + 1)],
                         ids=['1e30', 'nan', 'negative', 'fraction', 'too-long'])
def test_a_record_whose_label_is_no_text_is_named(codes, tmp_path, good_images):
    dataset = tmp_path / 'labels.rec'
    write_rec(dataset, good_records(good_images) + [(codes, next(good_images.iterdir())
                                                     .read_bytes())])
    line = assert_error_ends_the_log(train_on(dataset, tmp_path))
    assert f"record 8 of '{dataset}' has a label that is not a text" in line


def test_a_cache_folder_that_is_a_file_or_cannot_be_made(tmp_path, good_images):
    cache = tmp_path / 'cache'
    cache.write_text('a file')
    line = assert_error_ends_the_log(train_on(good_images, tmp_path))
    assert f"cannot create the cache folder '{cache}' (it is a file)" in line
    locked = tmp_path / 'locked'
    locked.mkdir(mode=0o555)
    line = assert_error_ends_the_log(train_on(good_images, tmp_path, '--cache_dir',
                                              locked / 'cache',
                                              preexec_fn=file_permissions_apply))
    assert f"'{locked / 'cache'}' (Permission denied)" in line
    assert not os.listdir(locked)


def test_a_file_size_limit_while_packing_leaves_nothing(tmp_path, good_images):
    line = assert_error_ends_the_log(train_on(good_images, tmp_path,
                                              preexec_fn=file_size_limit(20_000)))
    assert f"cannot write '{tmp_path / 'cache'}" in line and '.rec' in line
    assert os.listdir(tmp_path / 'cache') == []


def test_a_file_size_limit_while_saving_a_checkpoint_leaves_nothing(tmp_path, font):
    # the tiny model's symbol file fits in 100 kB, its optimizer states do not
    line = assert_error_ends_the_log(run_script(
        'lstm_ocr_train.py', '--num_hidden', 16, '--num_lstm_layer', 1, '--conv_channels', 8,
        '--batch_size', 16, '--train_epoch_size', 16, '--eval_epoch_size', 16, '--num_proc', 1,
        '--num_epoch', 1, '--prefix', tmp_path / 'ocr', font,
        preexec_fn=file_size_limit(100_000)))
    assert f"cannot write '{tmp_path / 'ocr-0001.states'}': File too large" in line
    assert not temporaries(tmp_path) and not (tmp_path / 'ocr-0001.params').exists()


WRITE_THEN_WAIT = """
import sys
from common.whole_files import written_whole
with written_whole(sys.argv[1]) as temporary, open(temporary, 'w') as f:
    f.write('half a file')
    f.flush()
    print('half written', flush=True)
    sys.stdin.read()
"""


def kill_while_writing(code, *args):
    """Run `code`, which prints a line once it is writing, and SIGKILL it then -> its PID."""
    writer = subprocess.Popen([sys.executable, '-c', code, *map(str, args)], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().endswith('written\n')
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    finally:
        writer.kill()
    return writer.pid


WRITE_ONE_RECORD_THEN_WAIT = """
import sys
from common import datasets
def records():
    yield open(sys.argv[2], 'rb').read(), '1234'
    print('one record written', flush=True)
    sys.stdin.read()
datasets.write_records(sys.argv[1], records(), 2)
"""


def test_temporaries_of_a_killed_packing_are_cleaned_by_the_next(tmp_path, good_images):
    cache = tmp_path / 'cache'
    cache.mkdir()
    pid = kill_while_writing(WRITE_ONE_RECORD_THEN_WAIT, cache / 'images-0123456789ab.rec',
                             next(good_images.iterdir()))
    left = sorted(os.listdir(cache))
    assert left == [f"images-0123456789ab.{kind}.tmp{pid}" for kind in ('idx', 'rec')]
    result = train_on(good_images, tmp_path)
    assert result.returncode == 0, result.stderr
    assert not temporaries(cache) and len(list(cache.glob('images-*.rec'))) == 1


def test_temporaries_of_a_killed_save_are_cleaned_by_the_next_run(tmp_path, font):
    pid = kill_while_writing(WRITE_THEN_WAIT, tmp_path / 'ocr-0001.states')
    assert os.listdir(tmp_path) == [f"ocr-0001.states.tmp{pid}"]
    result = run_script('lstm_ocr_train.py', '--num_hidden', 8, '--num_lstm_layer', 1,
                        '--batch_size', 8, '--train_epoch_size', 8, '--eval_epoch_size', 8,
                        '--num_proc', 1, '--num_epoch', 1, '--prefix', tmp_path / 'ocr', font)
    assert result.returncode == 0, result.stderr
    assert not temporaries(tmp_path) and (tmp_path / 'ocr-0001.states').is_file()


@pytest.fixture
def device(tmp_path):
    """A character device to name as an output: a null device of our own as root (who
    could replace /dev/null), else /dev/null itself."""
    if os.geteuid() != 0:
        return '/dev/null'
    path = tmp_path / 'null'
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return str(path)


def test_export_writes_only_regular_files(tmp_path, old_checkpoint, device):
    prefix, _ = old_checkpoint
    checkpoint = f"{prefix}-0100"
    line = assert_one_line_error(run_script('export_onnx.py', checkpoint, device))
    assert f"'{device}' is a character device, not a regular file" in line
    assert stat.S_ISCHR(os.stat(device).st_mode)
    line = assert_one_line_error(run_script('export_onnx.py', checkpoint, tmp_path))
    assert f"'{tmp_path}' is a folder, not a regular file" in line
    params = f"{checkpoint}.params"
    before = open(params, 'rb').read()
    line = assert_one_line_error(run_script('export_onnx.py', checkpoint, params))
    assert f"is a file of checkpoint {checkpoint} itself" in line
    assert open(params, 'rb').read() == before
    assert not temporaries(tmp_path) and not temporaries(os.path.dirname(prefix))


def test_export_under_a_file_size_limit_leaves_nothing(tmp_path, old_checkpoint):
    prefix, _ = old_checkpoint
    line = assert_one_line_error(run_script('export_onnx.py', f"{prefix}-0100",
                                            tmp_path / 'ocr.onnx',
                                            preexec_fn=file_size_limit(1000)))
    assert f"cannot write '{tmp_path / 'ocr.onnx'}': File too large" in line
    assert os.listdir(tmp_path) == []


def test_a_dataset_is_not_written_over_a_device(device, font):
    line = assert_one_line_error(run_script('captcha_generator.py', font, '--count', 2,
                                            '--rec', device))
    assert f"'{device}' is a character device, not a regular file" in line
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_fine_tuning_never_writes_over_the_checkpoint_it_starts_from(tmp_path, font):
    for name in ('ocr-symbol.json', 'ocr-0030.params', 'ocr-config.json'):
        shutil.copy(os.path.join(REPO, 'model', name), tmp_path / name)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    result = run_script('lstm_ocr_train.py', '--finetune', tmp_path / 'ocr-0030',
                        '--prefix', tmp_path / 'ocr', '--num_epoch', 1, font)
    line = assert_error_ends_the_log(result)
    assert "is where --finetune's checkpoint lies" in line
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before

"""Bad input ends every script with one line naming the problem, exit code != 0; unusual
but valid input works."""
import shutil

import cv2
import numpy as np
import pytest

from common.fonts import TRAINING_FONTS
from conftest import assert_error_ends_the_log, assert_one_line_error, run_script

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, font):
    prefix = tmp_path_factory.mktemp('ckpt') / 'ocr'
    result = run_script('lstm_ocr_train.py', '--num_hidden', 8, '--num_lstm_layer', 1,
                        '--batch_size', 8, '--train_epoch_size', 8, '--eval_epoch_size', 8,
                        '--num_epoch', 1, '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    return prefix


@pytest.mark.parametrize('args,says', [
    (['missing_fonts/'], 'does not exist'),
    (['{empty}'], 'no .ttf'),
    (['--loss', 'foo', '{font}'], "invalid choice: 'foo'"),
    (['--recipe', 'quick', '{font}'], "invalid choice: 'quick'"),
    (['--gpu', 1, '{font}'], '0 GPUs'),
    (['--batch_size', 0, '{font}'], 'must be at least 1'),
    (['--num_proc', 0, '{font}'], 'must be at least 1'),
    (['--learning_rate', -1, '{font}'], 'greater than 0'),
    (['--prefix', '{text}/ocr', '{font}'], 'cannot create checkpoint folder'),
    (['--column_pool', 3, '{font}'], 'must divide the 80 pixel columns'),
    (['--conv_channels', 'none', '--column_pool', 2, '{font}'], 'needs the convolutional'),
    (['--conv_stride', 3, '{font}'], 'multiple of --conv_stride'),
    (['--train_rec', '{empty}/no.rec', '{font}'], 'not found'),
    (['--train_rec', '{text}', '{font}'], 'not an MXNet RecordIO dataset'),
    ([], 'give FONT_PATH'),
    (['--charset', '9-0', '{font}'], 'runs backwards'),
    (['--finetune', 'model/ocr', '{font}'], 'not a checkpoint name'),
    (['--finetune', '{empty}/ocr-0001', '{font}'], "ocr-symbol.json' not found"),
    (['--finetune', 'model/ocr-0030', '--load_epoch', 1, '{font}'], 'not both'),
    (['--train_data', '{empty}', '{font}'], 'no image files'),
    (['--train_data', '{empty}/none', '{font}'], 'does not exist'),
])
def test_train_rejects(args, says, tmp_path, font):
    text = tmp_path / 'notes.rec'
    text.write_text('not a dataset')
    args = [str(a).format(font=font, empty=tmp_path, text=text) for a in args]
    assert says in assert_one_line_error(run_script('lstm_ocr_train.py', *args))


def test_infer_rejects_unreadable_image(tmp_path, checkpoint):
    text = tmp_path / 'notes.jpg'
    text.write_text('not an image')
    line = assert_one_line_error(
        run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 1, text))
    assert 'cannot read image' in line
    line = assert_one_line_error(
        run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 1, tmp_path / 'no.jpg'))
    assert 'not found' in line


def test_infer_rejects_missing_checkpoint(tmp_path, checkpoint, font):
    sample = tmp_path / 's.jpg'
    run_script('captcha_generator.py', font, sample)
    line = assert_one_line_error(
        run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 7, sample))
    assert 'ocr-0007.params' in line and 'not found' in line
    line = assert_one_line_error(run_script('lstm_ocr_infer.py', '--prefix', tmp_path / 'nope',
                                            sample))
    assert 'symbol.json' in line


def test_generator_rejects_missing_font(tmp_path):
    line = assert_one_line_error(run_script('captcha_generator.py', tmp_path / 'no.ttf',
                                            tmp_path / 'x.jpg'))
    assert 'does not exist' in line


def test_infer_rejects_a_negative_beam(tmp_path):
    line = assert_one_line_error(run_script('lstm_ocr_infer.py', '--beam', -1, tmp_path))
    assert '--beam' in line and '0 or more' in line


def test_plot_rejects_a_file_that_is_not_a_training_log(tmp_path):
    other = tmp_path / 'other.csv'
    other.write_text('a,b\n1,2\n')
    assert 'not a training log' in assert_one_line_error(run_script('tools/plot_log.py', other))
    missing = run_script('tools/plot_log.py', tmp_path / 'no.csv')
    assert 'cannot read' in assert_one_line_error(missing)


def test_generator_count_needs_a_destination(tmp_path, font):
    line = assert_one_line_error(run_script('captcha_generator.py', font, '--count', 3))
    assert '--out DIR or --rec FILE' in line


@pytest.mark.parametrize('make', [
    lambda path: path.write_bytes(b''),
    lambda path: path.write_text('not a font'),
    lambda path: path.write_bytes(open(TRAINING_FONTS[0], 'rb').read()[:20000]),  # cut off
], ids=['zero-byte', 'text', 'truncated'])
def test_fonts_that_cannot_draw_are_rejected(make, tmp_path):
    font = tmp_path / 'bad.ttf'
    make(font)
    for script, args in (('captcha_generator.py', [font, tmp_path / 'x.png']),
                         ('lstm_ocr_train.py', [font]), ('lstm_ocr_train.py', [tmp_path])):
        line = assert_one_line_error(run_script(script, *args))
        assert f"'{font}' is not a readable TrueType font" in line


def truncated_jpeg(path, font):
    whole = path.parent / 'whole.jpg'
    run_script('captcha_generator.py', font, whole)
    path.write_bytes(whole.read_bytes()[:1500])


@pytest.mark.parametrize('make,says', [
    (lambda path, font: path.write_bytes(b''), 'empty file'),
    (truncated_jpeg, 'truncated JPEG'),
    (lambda path, font: path.write_text('hello'), 'cannot read image'),
])
def test_images_that_cannot_be_read_are_rejected(make, says, tmp_path, checkpoint, font):
    image = tmp_path / 'bad.jpg'
    make(image, font)
    line = assert_one_line_error(
        run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 1, image))
    assert says in line


def test_folder_without_images_is_rejected(tmp_path, checkpoint):
    (tmp_path / 'notes.txt').write_text('no images here')
    line = assert_one_line_error(
        run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 1, tmp_path))
    assert 'no image files' in line


@pytest.mark.parametrize('name,image', [
    ('one_pixel.png', np.full((1, 1), 200, np.uint8)),
    ('huge.png', np.random.RandomState(0).randint(0, 256, (2048, 2048), dtype=np.uint8)),
    ('rgba.png', np.random.RandomState(1).randint(0, 256, (60, 160, 4), dtype=np.uint8)),
    ('deep.png', np.random.RandomState(2).randint(0, 65536, (60, 160), dtype=np.uint16)),
    ('network_size.png', np.random.RandomState(3).randint(0, 256, (30, 80), dtype=np.uint8)),
])
def test_unusual_but_valid_images_are_read(name, image, tmp_path, checkpoint):
    path = tmp_path / name
    cv2.imwrite(str(path), image)
    result = run_script('lstm_ocr_infer.py', '--prefix', checkpoint, '--epoch', 1, path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Digits: [')


def test_truncated_params_are_rejected(tmp_path, checkpoint, font):
    prefix = tmp_path / 'cut'
    shutil.copy(f"{checkpoint}-symbol.json", f"{prefix}-symbol.json")
    data = open(f"{checkpoint}-0001.params", 'rb').read()
    open(f"{prefix}-0001.params", 'wb').write(data[:len(data) // 2])
    sample = tmp_path / 's.png'
    run_script('captcha_generator.py', font, sample)
    line = assert_one_line_error(run_script('lstm_ocr_infer.py', '--prefix', prefix,
                                            '--epoch', 1, sample))
    assert 'unreadable' in line
    line = assert_one_line_error(run_script('lstm_ocr_train.py', '--load_epoch', 1, '--prefix',
                                            prefix, font))
    assert 'unreadable' in line


def test_params_of_another_architecture_are_rejected(tmp_path, checkpoint, font):
    other = tmp_path / 'other'
    result = run_script('lstm_ocr_train.py', '--num_hidden', 12, '--num_lstm_layer', 1,
                        '--batch_size', 8, '--train_epoch_size', 8, '--eval_epoch_size', 8,
                        '--num_epoch', 1, '--prefix', other, font)
    assert result.returncode == 0, result.stderr
    shutil.copy(f"{checkpoint}-symbol.json", f"{other}-symbol.json")  # 8 units; params: 12
    sample = tmp_path / 's.png'
    run_script('captcha_generator.py', font, sample)
    line = assert_one_line_error(run_script('lstm_ocr_infer.py', '--prefix', other,
                                            '--epoch', 1, sample))
    assert 'does not fit this network' in line


def labelled_folder(folder, font, charset='0-9', length='4', count=6):
    result = run_script('captcha_generator.py', font, '--charset', charset, '--length', length,
                        '--count', count, '--out', folder, '--seed', 1)
    assert result.returncode == 0, result.stderr
    return sorted(folder.iterdir())


def train_on(folder, tmp_path, *args):
    return run_script('lstm_ocr_train.py', '--train_data', folder, '--cache_dir',
                      tmp_path / 'cache', '--prefix', tmp_path / 'ocr', '--batch_size', 2,
                      '--num_epoch', 1, *args)


@pytest.mark.parametrize('charset,length,args,says', [
    ('0-9A-Z', '5', [], "(--charset 0-9A-Z spells every label)"),  # letters, digit model
    ('0-9', '5', ['--num_label', 4], 'more than --num_label 4'),
    ('0-9', '6', ['--num_columns', 16, '--column_pool', 4], 'CTC steps'),
])
def test_labels_a_model_cannot_hold_name_the_first_file(charset, length, args, says, tmp_path,
                                                        font):
    files = labelled_folder(tmp_path / 'mine', font, charset, length)
    new_folder = tmp_path / 'run'
    line = assert_error_ends_the_log(train_on(tmp_path / 'mine', tmp_path, *args, '--prefix',
                                              new_folder / 'ocr'))
    assert says in line and any(str(f) in line for f in files)
    assert not new_folder.exists()  # nothing written, not even the checkpoint folder


def test_a_few_unreadable_images_stop_training_or_are_skipped(tmp_path, font):
    labelled_folder(tmp_path / 'mine', font, count=8)
    for name in ('1111_bad.png', '2222_bad.jpg'):
        (tmp_path / 'mine' / name).write_text('not an image')
    line = assert_error_ends_the_log(train_on(tmp_path / 'mine', tmp_path))
    assert '2 of 10 images cannot be read' in line and '1111_bad.png' in line
    assert '--skip_bad' in line
    assert not list(tmp_path.glob('cache/*.rec'))  # no half-packed dataset
    result = train_on(tmp_path / 'mine', tmp_path, '--skip_bad')
    assert result.returncode == 0, result.stderr
    assert 'Leaving out 2 of 10 images that cannot be read' in result.stderr


@pytest.mark.parametrize('content,says', [
    ('missing.png,1234\n', "names 'missing.png', which does not exist"),
    ('{first},1234\n{first},5678\n', 'a second time'),
])
def test_labels_files_naming_missing_or_repeated_images(content, says, tmp_path, font):
    first = labelled_folder(tmp_path, font, count=1)[0].name
    labels = tmp_path / 'labels.csv'
    labels.write_text(content.format(first=first))
    assert says in assert_error_ends_the_log(train_on(labels, tmp_path))


def test_resuming_with_another_alphabet_is_refused(tmp_path, checkpoint, font):
    line = assert_one_line_error(run_script('lstm_ocr_train.py', '--load_epoch', 1, '--charset',
                                            '0-9A-Z', '--prefix', checkpoint, font))
    assert "cannot resume" in line and "not --charset '0123456789ABC" in line

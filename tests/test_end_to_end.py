"""The suite as a user runs it: train a tiny model on real captchas, then read an image."""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from common.image_conversion import Conversion
from conftest import REPO, TINY, run_script
from training import model_config
from training.data import VALIDATION_SEED

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def trained(tmp_path_factory, font):
    folder = tmp_path_factory.mktemp('run')
    prefix = folder / 'ocr'
    result = run_script('lstm_ocr_train.py', *TINY, '--num_epoch', 3, '--learning_rate', 0.01,
                        '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    return prefix, result.stderr


def read_a_drawn_captcha(prefix, epoch, folder, font):
    """Draw a captcha and read it through lstm_ocr_infer.py with checkpoint PREFIX-NNNN
    -> what the script printed."""
    sample = folder / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', epoch, sample)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_training_logs_speed_and_validation_accuracy(trained):
    _, log = trained
    assert re.search(r'Epoch\[0\] Batch \[[\d-]+\]\s+Speed: [\d.]+ samples/sec', log)
    assert 'Epoch[2] Validation-accuracy=' in log
    assert 'Traceback' not in log


def test_training_logs_its_settings_once_before_it_starts(trained):
    _, log = trained
    assert log.count('Settings of this ') == 1
    block = log[log.index('Settings of this fresh run'):log.index('Epoch[0]')]
    assert re.search(r"^  num_hidden +16 +command line$", block, re.M), block
    assert re.search(r"^  optimizer +'adam' +recipe fast$", block, re.M), block
    assert re.search(r"^  num_label +4 +data$", block, re.M), block


def test_checkpoints_load_with_mxnet_and_infer(trained, tmp_path, font):
    prefix, _ = trained
    for epoch in (1, 2, 3):
        symbol, arg_params, _ = mx.model.load_checkpoint(str(prefix), epoch)
        assert 'pred_fc_weight' in arg_params
    assert not list(prefix.parent.glob('*.tmp*'))
    sample = tmp_path / 'sample.jpg'
    assert run_script('captcha_generator.py', font, sample, '--num', '0089').returncode == 0
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, sample)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r'Digits: \[[\d, ]*\]', result.stdout.strip()), result.stdout


def test_infer_several_images_prefixes_paths(trained, tmp_path, font):
    prefix, _ = trained
    paths = [tmp_path / f'{i}.png' for i in range(2)]
    for path in paths:
        run_script('captcha_generator.py', font, path)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, *paths)
    lines = result.stdout.strip().splitlines()
    assert [line.split(': ')[0] for line in lines] == [str(p) for p in paths]


def test_resume_continues_epochs_and_parameters(trained, font):
    prefix, _ = trained
    result = run_script('lstm_ocr_train.py', *TINY, '--load_epoch', 3, '--num_epoch', 4,
                        '--learning_rate', 1e-9, '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    assert 'Epoch[3] Validation-accuracy=' in result.stderr
    assert 'Epoch[0]' not in result.stderr
    assert re.search(r"^  optimizer +'adam' +checkpoint$", result.stderr, re.M), result.stderr
    assert re.search(r"^  learning_rate +1e-09 +command line$", result.stderr, re.M)
    _, before, _ = mx.model.load_checkpoint(str(prefix), 3)
    _, after, _ = mx.model.load_checkpoint(str(prefix), 4)
    for name in before:  # a negligible learning rate: loaded, not re-initialised
        np.testing.assert_allclose(after[name].asnumpy(), before[name].asnumpy(), atol=1e-5)
    assert (prefix.parent / 'ocr-0004.states').is_file()


def test_resume_from_missing_epoch_is_a_clear_error(trained, font):
    prefix, _ = trained
    result = run_script('lstm_ocr_train.py', *TINY, '--load_epoch', 9, '--prefix', prefix, font)
    assert result.returncode != 0
    assert 'ocr-0009.params' in result.stderr and 'Traceback' not in result.stderr


def train_one_batch(prefix, font, *options):
    """lstm_ocr_train.py with `options` for one epoch of one batch of 8, validated on 8."""
    result = run_script('lstm_ocr_train.py', *options, '--batch_size', 8, '--train_epoch_size',
                        8, '--eval_epoch_size', 8, '--num_epoch', 1, '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr


def test_seed_recipe_is_the_original_network(tmp_path, font):
    prefix = tmp_path / 'seed'
    train_one_batch(prefix, font, '--recipe', 'seed', '--num_hidden', 8)
    _, params, _ = mx.model.load_checkpoint(str(prefix), 1)
    assert set(params) == {f'l{i}_{p}' for i in range(2) for p in
                           ('i2h_weight', 'i2h_bias', 'h2h_weight', 'h2h_bias')
                           } | {'pred_fc_bias', 'pred_fc_weight'}


def test_eval_scores_a_labelled_folder(trained, tmp_path, font):
    prefix, _ = trained
    folder = tmp_path / 'labelled'
    run_script('captcha_generator.py', font, '--count', 10, '--out', folder, '--seed', 2)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, '--eval', folder)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'images: 10'
    assert re.fullmatch(r'exact-match accuracy: [01]\.\d{4}', lines[1])
    assert re.fullmatch(r'LCS accuracy: [01]\.\d{4}', lines[2])
    assert lines[3].startswith('most confused (true->read): ')


def test_folder_with_an_unreadable_file_reads_the_rest(trained, tmp_path, font):
    prefix, _ = trained
    for name in ('a.png', 'b.png'):
        run_script('captcha_generator.py', font, tmp_path / name)
    (tmp_path / 'c.png').write_text('not an image')
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, tmp_path)
    assert result.returncode != 0
    assert [line.split(': ')[0] for line in result.stdout.splitlines()] == [
        str(tmp_path / 'a.png'), str(tmp_path / 'b.png')]
    assert result.stderr.strip() == f"error: cannot read image '{tmp_path / 'c.png'}': " \
                                    "give a JPEG, PNG, BMP, GIF, WebP or TIFF file"


def test_resume_with_other_network_settings_is_a_clear_error(trained, font):
    prefix, _ = trained
    args = [a if a != 16 else 24 for a in TINY]  # another --num_hidden (and --batch_size)
    result = run_script('lstm_ocr_train.py', *args, '--load_epoch', 3, '--num_epoch', 4,
                        '--prefix', prefix, font)
    assert result.returncode != 0
    assert 'trained with other settings' in result.stderr and 'Traceback' not in result.stderr


def test_warpctc_head_trains_and_its_checkpoint_infers(tmp_path, font):
    prefix = tmp_path / 'warp'
    result = run_script('lstm_ocr_train.py', *TINY, '--loss', 'warpctc', '--num_epoch', 1,
                        '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    assert 'Epoch[0] Validation-accuracy=' in result.stderr
    assert read_a_drawn_captcha(prefix, 1, tmp_path, font).startswith('Digits: [')


def test_the_reader_needs_no_loss_operator_and_no_script(trained, tmp_path, font):
    prefix, _ = trained
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample, '--num', '0089')
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, sample)
    assert result.returncode == 0, result.stderr
    code = ("import sys\n"
            "from common import image_conversion\n"
            "from reader import mxnet_reader, reading\n"
            f"model = mxnet_reader.MXNetModel({str(prefix)!r}, 3, 1)\n"
            f"views = image_conversion.Conversion().read({str(sample)!r})[None]\n"
            "print(reading.read_views(model, views)[0].text)\n"
            "loaded = [m for m in ('common.warpctc', 'training.fit', 'lstm_ocr_infer',"
            " 'captcha_generator') if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    read = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    assert f"Digits: {[int(d) for d in read.stdout.strip()]}" == result.stdout.strip()


def test_shipped_model_reads_a_captcha_by_default(tmp_path, font):
    sample = tmp_path / 'sample.jpg'
    run_script('captcha_generator.py', font, sample, '--num', '0089', '--seed', 1)
    result = run_script('lstm_ocr_infer.py', sample, cwd=tmp_path)  # from another folder
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'Digits: [0, 0, 8, 9]'


def exact_match_of(result):
    """lstm_ocr_infer.py --eval's output -> its exact-match accuracy."""
    assert result.returncode == 0, result.stderr
    scores = dict(line.split(': ') for line in result.stdout.splitlines()[1:3])
    return float(scores['exact-match accuracy'])


def test_the_shipped_model_reads_hatched_glyphs_through_its_blurred_second_view(
        tmp_path, unseen_fonts):
    """The shipped model's settings add a blurred second reading (soft_view): captchas of a
    held-out look whose glyphs are filled with hatching, which it reads once at about 2 %,
    it reads at about 70 % with the second view (docs/training.md, "More views")."""
    folder = tmp_path / 'hatched'
    run_script('captcha_generator.py', unseen_fonts, '--style', 'hatched', '--count', 40,
               '--out', folder, '--seed', 7)
    one_view = exact_match_of(run_script('lstm_ocr_infer.py', '--one_view', '--eval', folder))
    two_views = exact_match_of(run_script('lstm_ocr_infer.py', '--eval', folder))
    assert one_view < 0.2 and two_views > 0.45


def shipped_model_without(folder, *settings):
    """A copy of the shipped model in `folder` with these reading settings off -> its
    prefix."""
    folder.mkdir()
    for name in ('ocr-symbol.json', 'ocr-0030.params'):
        shutil.copy(os.path.join(REPO, 'model', name), folder / name)
    config = json.loads(Path(REPO, 'model', 'ocr-config.json').read_text())
    for setting in settings:
        assert config['hyperparameters'][setting] is True
        config['hyperparameters'][setting] = False
    (folder / 'ocr-config.json').write_text(json.dumps(config))
    return folder / 'ocr'


def test_the_shipped_model_reads_small_text_on_a_large_canvas_through_its_windows(
        tmp_path, unseen_fonts):
    """The shipped model's settings add readings of windows of large images (window_views):
    `poster` captchas, small text amid shapes on a 480x270 canvas, read better with them
    than by the same network without (docs/training.md, "More views")."""
    folder = tmp_path / 'poster'
    run_script('captcha_generator.py', unseen_fonts, '--style', 'poster', '--count', 40,
               '--out', folder, '--seed', 7)
    without = shipped_model_without(tmp_path / 'without', 'window_views')
    read = [exact_match_of(run_script('lstm_ocr_infer.py', '--prefix', without, '--epoch', 30,
                                      '--eval', folder)),
            exact_match_of(run_script('lstm_ocr_infer.py', '--eval', folder))]
    assert read[1] >= read[0] + 0.1, read


def test_the_shipped_model_reads_shadowed_glyphs_through_its_thinned_view(tmp_path, unseen_fonts):
    """The shipped model's settings add a reading with the ink thinned by a pixel
    (thin_view): `shadow` captchas, whose glyphs are doubled by a darker copy behind them,
    read better with it (docs/training.md, "More views")."""
    folder = tmp_path / 'shadow'
    run_script('captcha_generator.py', unseen_fonts, '--style', 'shadow',
               '--count', 60, '--out', folder, '--seed', 7)
    without = shipped_model_without(tmp_path / 'without', 'thin_view')
    read = [exact_match_of(run_script('lstm_ocr_infer.py', '--prefix', without, '--epoch', 30,
                                      '--eval', folder)),
            exact_match_of(run_script('lstm_ocr_infer.py', '--eval', folder))]
    assert read[1] >= read[0] + 0.08, read


def test_a_model_without_a_soft_view_reads_each_image_once(trained, tmp_path, font):
    prefix, _ = trained
    assert json.loads((prefix.parent / 'ocr-config.json').read_text())[
        'hyperparameters']['soft_view'] == 0
    paths = [tmp_path / f'{i}.png' for i in range(3)]
    for path in paths:
        run_script('captcha_generator.py', font, path)
    read = [run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, '--json', *flags,
                       *paths).stdout for flags in ([], ['--one_view'])]
    assert read[0] == read[1] and read[0].count('"confidence"') == 3


def test_training_writes_a_csv_per_epoch_that_plots(trained, tmp_path):
    prefix, _ = trained
    with open(f"{prefix}-log.csv", newline='') as f:
        rows = list(csv.DictReader(f))
    assert [row['epoch'] for row in rows[:3]] == ['1', '2', '3']
    assert [row['samples'] for row in rows[:3]] == ['128', '256', '384']  # captchas seen
    for row in rows:
        assert 0 <= float(row['val_accuracy']) <= 1 and 0 <= float(row['val_lcs_accuracy']) <= 1
        assert float(row['train_ctc_loss']) > 0 and float(row['samples_per_s']) > 0
    out = tmp_path / 'curves.png'
    result = run_script('tools/plot_log.py', f"{prefix}-log.csv", '--out', out)
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == (1000, 400)


def test_json_lines_parse_and_beam_search_reads_too(trained, tmp_path, font):
    prefix, _ = trained
    paths = [tmp_path / f'{i}.png' for i in range(3)]
    for path in paths:
        run_script('captcha_generator.py', font, path)
    for beam in (0, 4):
        result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, '--json',
                            '--beam', beam, *paths)
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r['path'] for r in records] == [str(p) for p in paths]
        for r in records:
            assert r['text'] == ''.join(map(str, r['digits']))
            assert 0 <= r['confidence'] <= 1


def test_fused_lstm_trains_from_record_files_and_infers(tmp_path, font):
    for name, count, seed in (('train', 128, 1), ('val', 64, 2)):
        result = run_script('captcha_generator.py', font, '--count', count,
                            '--rec', tmp_path / f'{name}.rec', '--seed', seed)
        assert result.returncode == 0, result.stderr
    prefix = tmp_path / 'fused'
    result = run_script('lstm_ocr_train.py', *TINY, '--rnn', 'fused', '--num_epoch', 2,
                        '--train_rec', tmp_path / 'train.rec', '--val_rec', tmp_path / 'val.rec',
                        '--prefix', prefix)  # no font: nothing is drawn
    assert result.returncode == 0, result.stderr
    assert 'Training on 128 images of' in result.stderr
    assert 'Epoch[1] Validation-accuracy=' in result.stderr
    _, params, _ = mx.model.load_checkpoint(str(prefix), 2)
    assert 'lstm_parameters' in params and 'l0_i2h_weight' not in params
    assert read_a_drawn_captcha(prefix, 2, tmp_path, font).startswith('Digits: [')


def test_eval_of_the_validation_captchas_agrees_with_training(trained, tmp_path, font):
    prefix, _ = trained
    folder = tmp_path / 'val'  # the same 64 captchas training validated on, as image files
    run_script('captcha_generator.py', font, '--count', 64, '--out', folder,
               '--seed', VALIDATION_SEED)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 3, '--eval', folder)
    assert result.returncode == 0, result.stderr
    scores = dict(line.split(': ') for line in result.stdout.splitlines()[1:3])
    with open(f"{prefix}-log.csv", newline='') as f:
        epoch_3 = list(csv.DictReader(f))[2]
    assert float(scores['exact-match accuracy']) == pytest.approx(
        float(epoch_3['val_accuracy']), abs=0.02)
    assert float(scores['LCS accuracy']) == pytest.approx(
        float(epoch_3['val_lcs_accuracy']), abs=0.02)


def test_non_default_settings_infer_with_no_other_flag(tmp_path, font):
    prefix = tmp_path / 'runs' / 'odd'  # a folder the trainer creates
    result = run_script('lstm_ocr_train.py', '--num_hidden', 64, '--column_pool', 2, '--rnn',
                        'fused', '--num_columns', 96, '--column_height', 32, '--batch_size', 16,
                        '--train_epoch_size', 32, '--eval_epoch_size', 16, '--num_epoch', 1,
                        '--style', 'robust', '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    settings = json.loads((tmp_path / 'runs' / 'odd-config.json').read_text())
    assert settings['hyperparameters']['num_hidden'] == 64
    assert settings['hyperparameters']['style'] == 'robust'
    assert settings['hyperparameters']['num_columns'] == 96 and settings['charset'] == '0123456789'
    assert read_a_drawn_captcha(prefix, 1, tmp_path, font).startswith('Digits: [')


def test_the_robust_recipe_trains_and_its_checkpoint_infers(tmp_path, font):
    prefix = tmp_path / 'robust'
    train_one_batch(prefix, font, '--recipe', 'robust', '--num_hidden', 16)
    hyperparameters = json.loads((tmp_path / 'robust-config.json').read_text())['hyperparameters']
    assert (hyperparameters['style'], hyperparameters['conversion']) == ('robust', 'ink')
    assert (hyperparameters['num_columns'], hyperparameters['column_height']) == (160, 60)
    assert read_a_drawn_captcha(prefix, 1, tmp_path, font).startswith('Digits: [')


def test_a_model_trained_through_ink_crop_reads_through_it(tmp_path, font):
    prefix = tmp_path / 'crop'
    train_one_batch(prefix, font, '--conversion', 'ink_crop', '--num_hidden', 16)
    assert model_config.load(str(prefix)).conversion == Conversion('ink_crop', 80, 30)
    assert read_a_drawn_captcha(prefix, 1, tmp_path, font).startswith('Digits: [')


def test_a_checkpoint_without_settings_infers_with_the_originals(old_checkpoint, tmp_path, font):
    prefix, params = old_checkpoint
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample, '--num', '0089')
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 100, '--json',
                        sample)
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    # the same digits the original example's own inference would print: its graph bound
    # with zero states, on the image converted as it converts (gray, 80x30, / 255)
    symbol, _, _ = mx.model.load_checkpoint(prefix, 100)
    softmax = mx.sym.softmax(symbol.get_internals()['pred_fc_output'])
    image = cv2.resize(cv2.imread(str(sample), 0), (80, 30)).astype(np.float32) / 255
    inputs = {'data': mx.nd.array(image.T[None]), **params,
              **{f"l{i}_init_{k}": mx.nd.zeros((1, 24)) for i in range(2) for k in 'ch'}}
    prob = softmax.bind(mx.cpu(), inputs).forward()[0].asnumpy()
    best = prob.argmax(axis=1)
    expected = [int(c) - 1 for i, c in enumerate(best) if c and (i == 0 or c != best[i - 1])]
    assert read['digits'] == expected


@pytest.fixture(scope='module')
def alphanumeric(tmp_path_factory, font):
    """A tiny labelled folder of 5 lower-case letters and digits, trained on for a few batches
    through --train_data (packed into RecordIO)."""
    folder = tmp_path_factory.mktemp('alnum')
    result = run_script('captcha_generator.py', font, '--charset', '0-9a-z', '--length', 5,
                        '--count', 40, '--out', folder / 'images', '--seed', 5)
    assert result.returncode == 0, result.stderr
    prefix = folder / 'az'
    result = run_script('lstm_ocr_train.py', *TINY, '--charset', '0-9a-z', '--num_epoch', 2,
                        '--train_data', folder / 'images', '--cache_dir', folder / 'cache',
                        '--prefix', prefix)
    assert result.returncode == 0, result.stderr
    return folder, prefix, result.stderr


def test_a_labelled_folder_of_another_alphabet_trains_and_reads(alphanumeric):
    folder, prefix, log = alphanumeric
    assert 'Packed 40 images from' in log and list((folder / 'cache').glob('images-*.idx'))
    assert 'Holding out 4 of 40 images' in log and 'Training on 36 images' in log
    assert '20 LSTM steps for labels of up to 5 characters' in log  # and how to get more
    assert '--column_pool 2 gives 40' in log
    settings = json.loads((folder / 'az-config.json').read_text())
    assert settings['charset'] == '0123456789abcdefghijklmnopqrstuvwxyz'
    assert settings['num_label'] == 5
    image = sorted((folder / 'images').iterdir())[0]
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 2, image)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r'Text: [0-9a-z]{0,10}', result.stdout.strip()), result.stdout
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 2, '--json', image)
    assert set(json.loads(result.stdout)) == {'path', 'text', 'confidence'}
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 2, '--eval',
                        folder / 'images')
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('images: 40\n')


def test_finetuning_starts_from_exactly_the_checkpoints_parameters(alphanumeric, font):
    folder, prefix, _ = alphanumeric
    finetuned = folder / 'upper'
    result = run_script('lstm_ocr_train.py', '--finetune', f"{prefix}-0002", '--charset',
                        '0-9A-Z', '--learning_rate', 1e-12, '--num_epoch', 1, '--batch_size',
                        16, '--train_data', folder / 'images', '--cache_dir', folder / 'cache',
                        '--conversion', 'ink_crop', '--prefix', finetuned)
    assert result.returncode == 0, result.stderr
    assert 'Labels are folded to upper case' in result.stderr
    assert 'Reading in 40 LSTM steps where the checkpoint read in 20' in result.stderr
    assert ("Replacing the checkpoint's network settings: conversion 'ink' by 'ink_crop'"
            in result.stderr)
    assert '11 of 37 classes carried over (the blank and 10 characters), 26 initialised' in (
        result.stderr)
    assert re.search(r'26 characters of --charset are new to the checkpoint; --finetune '
                     r'\S*model/alnum-0020 starts from a model that reads them all',
                     result.stderr)
    _, before, _ = mx.model.load_checkpoint(str(prefix), 2)
    _, after, _ = mx.model.load_checkpoint(str(finetuned), 1)
    assert set(before) == set(after)
    for name in before:  # a learning rate of 1e-12: what fine-tuning started from
        if not name.startswith('pred_fc'):
            np.testing.assert_allclose(after[name].asnumpy(), before[name].asnumpy(), atol=1e-6)
    old, new = before['pred_fc_weight'].asnumpy(), after['pred_fc_weight'].asnumpy()
    np.testing.assert_allclose(new[:11], old[:11], atol=1e-6)  # the blank and the digits
    assert not np.allclose(new[11:], old[11:])  # letters: upper case, initialised afresh
    settings = json.loads((folder / 'upper-config.json').read_text())
    assert settings['hyperparameters']['num_hidden'] == 16  # the network of the checkpoint
    assert settings['hyperparameters']['column_pool'] == 2  # in 40 steps, twice its 20
    assert settings['hyperparameters']['augment'] is True  # fine-tuning's own settings
    assert settings['hyperparameters']['conversion'] == 'ink_crop'  # as given
    assert 'other views' not in result.stderr  # its checkpoint reads once
    assert not settings['hyperparameters']['window_views']


def test_the_letters_model_reads_letters_and_starts_fine_tuning_with_them(alphanumeric):
    folder, _, _ = alphanumeric
    prefix = f"{model_config.ALNUM_PREFIX}-{model_config.ALNUM_EPOCH:04d}"
    result = run_script('lstm_ocr_infer.py', '--prefix', model_config.ALNUM_PREFIX, '--epoch',
                        model_config.ALNUM_EPOCH, '--eval', folder / 'images')
    assert result.returncode == 0, result.stderr
    lcs = float(re.search(r'LCS accuracy: ([0-9.]+)', result.stdout).group(1))
    assert lcs > 0.75, result.stdout  # 5 of 0-9a-z; misreadings mostly the case of c, o, z
    finetuned = folder / 'from-alnum'
    result = run_script('lstm_ocr_train.py', '--finetune', prefix, '--charset', '0-9A-Z',
                        '--learning_rate', 1e-12, '--num_epoch', 1, '--batch_size', 16,
                        '--train_data', folder / 'images', '--cache_dir', folder / 'cache',
                        '--prefix', finetuned)
    assert result.returncode == 0, result.stderr
    assert 'Output layer: 37 of 37 classes carried over (the blank and 36 characters)\n' in (
        result.stderr)
    assert 'new to the checkpoint' not in result.stderr
    # it reads images it is unsure of through the letters model's other views, as it does
    assert ('again through other views, as the checkpoint does: soft_view, thin_view, '
            'window_views' in result.stderr)
    settings = json.loads((folder / 'from-alnum-config.json').read_text())['hyperparameters']
    assert (settings['soft_view'], settings['thin_view'], settings['window_views']) == (
        1.0, True, True)


def test_a_folder_larger_than_a_chunk_is_read_in_order_with_a_progress_line(tmp_path, font):
    """lstm_ocr_infer.py decodes, reads and prints CHUNK_SIZE images at a time, so a folder
    of any size fits in memory: every image is still read, in order, as it reads in a
    folder of one chunk."""
    import lstm_ocr_infer
    drawn = tmp_path / 'drawn'
    run_script('captcha_generator.py', font, '--count', 3, '--out', drawn, '--seed', 3)
    captchas = sorted(drawn.iterdir())
    folder = tmp_path / 'many'
    folder.mkdir()
    count = lstm_ocr_infer.CHUNK_SIZE + 1
    for index in range(count):
        shutil.copy(captchas[index % 3], folder / f'{index:05d}.png')
    result = run_script('lstm_ocr_infer.py', '--json', folder)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r['path'] for r in records] == [str(folder / f'{i:05d}.png') for i in range(count)]
    one_chunk = run_script('lstm_ocr_infer.py', '--json', drawn)
    in_one_chunk = [json.loads(line)['text'] for line in one_chunk.stdout.splitlines()]
    assert [r['text'] for r in records] == [in_one_chunk[i % 3] for i in range(count)]
    assert re.search(rf"chunks of {lstm_ocr_infer.CHUNK_SIZE} images read: 100%.* 2/2",
                     result.stderr)

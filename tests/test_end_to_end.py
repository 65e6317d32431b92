"""The suite as a user runs it: train a tiny model on real captchas, then read an image."""
import csv
import json
import re

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

from conftest import run_script
from lstm_ocr_train import VALIDATION_SEED

TINY = ['--num_hidden', 16, '--num_lstm_layer', 1, '--conv_channels', 8, '--batch_size', 16,
        '--train_epoch_size', 128, '--eval_epoch_size', 64, '--num_proc', 1, '--seed', 3]


@pytest.fixture(scope='module')
def trained(tmp_path_factory, font):
    folder = tmp_path_factory.mktemp('run')
    prefix = folder / 'ocr'
    result = run_script('lstm_ocr_train.py', *TINY, '--num_epoch', 3, '--learning_rate', 0.01,
                        '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
    return prefix, result.stderr


def test_training_logs_speed_and_validation_accuracy(trained):
    _, log = trained
    assert re.search(r'Epoch\[0\] Batch \[[\d-]+\]\s+Speed: [\d.]+ samples/sec', log)
    assert 'Epoch[2] Validation-accuracy=' in log


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


def test_seed_recipe_is_the_original_network(tmp_path, font):
    prefix = tmp_path / 'seed'
    result = run_script('lstm_ocr_train.py', '--recipe', 'seed', '--num_hidden', 8,
                        '--batch_size', 8, '--train_epoch_size', 8, '--eval_epoch_size', 8,
                        '--num_epoch', 1, '--prefix', prefix, font)
    assert result.returncode == 0, result.stderr
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
                                    "give a JPEG, PNG, BMP or TIFF file"


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
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 1, sample)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Digits: [')


def test_shipped_model_reads_a_captcha_by_default(tmp_path, font):
    sample = tmp_path / 'sample.jpg'
    run_script('captcha_generator.py', font, sample, '--num', '0089', '--seed', 1)
    result = run_script('lstm_ocr_infer.py', sample, cwd=tmp_path)  # from another folder
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'Digits: [0, 0, 8, 9]'


def test_training_writes_a_csv_per_epoch_that_plots(trained, tmp_path):
    prefix, _ = trained
    with open(f"{prefix}-log.csv", newline='') as f:
        rows = list(csv.DictReader(f))
    assert [row['epoch'] for row in rows[:3]] == ['1', '2', '3']
    for row in rows:
        assert 0 <= float(row['val_accuracy']) <= 1 and 0 <= float(row['val_lcs_accuracy']) <= 1
        assert float(row['train_ctc_loss']) > 0 and float(row['samples_per_s']) > 0
    out = tmp_path / 'curves.png'
    result = run_script('plot_log.py', f"{prefix}-log.csv", '--out', out)
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
    assert 'Read 128 captchas from' in result.stderr
    assert 'Epoch[1] Validation-accuracy=' in result.stderr
    _, params, _ = mx.model.load_checkpoint(str(prefix), 2)
    assert 'lstm_parameters' in params and 'l0_i2h_weight' not in params
    sample = tmp_path / 'sample.png'
    run_script('captcha_generator.py', font, sample)
    result = run_script('lstm_ocr_infer.py', '--prefix', prefix, '--epoch', 2, sample)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('Digits: [')


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

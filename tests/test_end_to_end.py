"""The suite as a user runs it: train a tiny model on real captchas, then read an image."""
import re

import mxnet as mx
import pytest

from conftest import run_script

TINY = ['--num_hidden', 16, '--num_lstm_layer', 1, '--batch_size', 16,
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


def test_ctc_loss_falls(trained):
    _, log = trained
    losses = [float(x) for x in re.findall(r'Validation-ctc_loss=([\d.]+)', log)]
    assert len(losses) == 3
    assert losses[2] < losses[0] * 0.8, losses


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

"""--help of every script: usage, defaults shown, and no '(default: None)' noise."""
import pytest

from conftest import run_script

SCRIPTS = ['captcha_generator.py', 'lstm_ocr_train.py', 'lstm_ocr_infer.py', 'export_onnx.py',
           'lstm_ocr_serve.py', 'tools/plot_log.py', 'tools/launch_local.py', 'tools/bench.py',
           'tools/get_fonts.py', 'tools/network_speed.py']


@pytest.mark.parametrize('script', SCRIPTS)
def test_help_shows_usage_without_none_defaults(script):
    result = run_script(script, '--help', timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('usage:')
    assert '(default: None)' not in result.stdout


def test_help_shows_the_defaults_that_exist():
    train = run_script('lstm_ocr_train.py', '--help', timeout=60).stdout
    assert '(default: ocr)' in train and '(default: 3-4)' in train
    assert 'learning rate (default: 0.001)' in train  # the fast recipe's
    seed = run_script('lstm_ocr_train.py', '--recipe', 'seed', '--help', timeout=60).stdout
    assert 'learning rate (default: 0.01)' in seed
    infer = run_script('lstm_ocr_infer.py', '--help', timeout=60).stdout
    assert '(default: 30)' in infer

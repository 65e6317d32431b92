"""Bad input ends every script with one line naming the problem, exit code != 0."""
import pytest

from conftest import assert_one_line_error, run_script


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
    (['--prefix', '/nonexistent/dir/ocr', '{font}'], 'does not exist'),
])
def test_train_rejects(args, says, tmp_path, font):
    args = [str(a).format(font=font, empty=tmp_path) for a in args]
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

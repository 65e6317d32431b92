import cv2
import numpy as np
import pytest
from captcha.image import ImageCaptcha

from captcha_generator import (CAPTCHA_NOISE, DigitCaptcha, MeasuringOnceCaptcha, encode_label,
                               find_fonts, image_to_sequence, read_image)
from conftest import assert_one_line_error, run_script
from get_fonts import TRAINING_FONTS
from ocr_iter import RecordCaptchaSet


def test_image_to_sequence_reads_columns_left_to_right():
    gray = np.zeros((30, 80), np.uint8)
    gray[:, 0] = 255
    seq = image_to_sequence(gray)
    assert seq.shape == (80, 30) and seq.dtype == np.float32
    assert np.all(seq[0] == 1.0) and np.all(seq[1:] == 0.0)


def test_image_to_sequence_scales_16_bit_and_any_size():
    assert image_to_sequence(np.full((60, 160), 65535, np.uint16)).max() == pytest.approx(1.0)
    assert image_to_sequence(np.full((1, 1), 128, np.uint8)).shape == (80, 30)


def test_read_image_converts_colour_files_like_training(tmp_path):
    rgb = np.random.RandomState(0).randint(0, 256, (60, 160, 3)).astype(np.uint8)
    path = str(tmp_path / 'x.png')
    cv2.imwrite(path, rgb)
    expected = image_to_sequence(cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY))
    np.testing.assert_array_equal(read_image(path), expected)


@pytest.mark.parametrize('digits,label', [('089', [1, 9, 10, 0]), ('1234', [2, 3, 4, 5])])
def test_encode_label(digits, label):
    np.testing.assert_array_equal(encode_label(digits, 4), label)


def test_digit_captcha_is_random_and_reproducible(font):
    first, second = DigitCaptcha([font], seed=7), DigitCaptcha([font], seed=7)
    samples = [first.get() for _ in range(5)]
    for image, digits in samples:
        assert image.shape == (80, 30) and 0 <= image.min() and image.max() <= 1
        assert 3 <= len(digits) <= 4 and digits.isdigit()
    again = [second.get() for _ in range(5)]
    assert [d for _, d in samples] == [d for _, d in again]
    np.testing.assert_array_equal(samples[-1][0], again[-1][0])
    assert len({d for _, d in samples}) > 1


def test_measuring_once_draws_what_the_captcha_package_draws():
    fonts = TRAINING_FONTS[:3]  # boxes differ between fonts: a cache that mixed them would show
    package, ours = ImageCaptcha(fonts=fonts), MeasuringOnceCaptcha(fonts=fonts)
    for noise_seed in range(40):
        digits = f"{noise_seed * 7919 % 10000:04d}"
        CAPTCHA_NOISE.seed(noise_seed)
        expected = np.asarray(package.generate_image(digits))
        CAPTCHA_NOISE.seed(noise_seed)
        np.testing.assert_array_equal(np.asarray(ours.generate_image(digits)), expected)


def test_get_batch_labels_match_digits(font):
    images, labels = DigitCaptcha([font], seed=3).get_batch(6)
    _, first_digits = DigitCaptcha([font], seed=3).get()
    assert images.shape == (6, 80, 30) and labels.shape == (6, 4)
    np.testing.assert_array_equal(labels[0], encode_label(first_digits, 4))


def test_find_fonts(tmp_path, font):
    assert find_fonts(font) == [font]
    with pytest.raises(ValueError, match='does not exist'):
        find_fonts(str(tmp_path / 'missing.ttf'))
    with pytest.raises(ValueError, match='no .ttf'):
        find_fonts(str(tmp_path))
    (tmp_path / 'fake.ttf').write_text('not a font')
    with pytest.raises(ValueError, match='not a readable TrueType font'):
        find_fonts(str(tmp_path))


def test_cli_writes_full_size_captcha(tmp_path, font):
    out = tmp_path / 'sample.jpg'
    result = run_script('captcha_generator.py', font, out, '--num', '0089')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Captcha image with digits [0, 0, 8, 9] written to {out}"
    assert cv2.imread(str(out)).shape == (60, 160, 3)


def test_cli_rejects_bad_digits(tmp_path, font):
    line = assert_one_line_error(run_script('captcha_generator.py', font, tmp_path / 'x.jpg',
                                            '--num', '12a'))
    assert '--num' in line


def test_cli_writes_a_labelled_folder_reproducibly(tmp_path, font):
    names = []
    for run in ('a', 'b'):
        result = run_script('captcha_generator.py', font, '--count', 12, '--out',
                            tmp_path / run, '--seed', 9)
        assert result.returncode == 0, result.stderr
        assert '12/12 (100%)' in result.stderr  # progress
        names.append(sorted(p.name for p in (tmp_path / run).iterdir()))
    assert names[0] == names[1] and len(names[0]) == 12
    for name in names[0]:
        digits, index = name[:-4].split('_')
        assert 3 <= len(digits) <= 4 and digits.isdigit() and 0 <= int(index) < 12
    a, b = (cv2.imread(str(tmp_path / run / names[0][0])) for run in ('a', 'b'))
    np.testing.assert_array_equal(a, b)


def test_cli_needs_output_or_count(tmp_path, font):
    assert 'either OUTPUT' in assert_one_line_error(run_script('captcha_generator.py', font))
    line = assert_one_line_error(run_script('captcha_generator.py', font, '--count', 3))
    assert '--out' in line


def test_record_file_holds_the_networks_view_and_labels(tmp_path, font):
    path = tmp_path / 'train.rec'
    result = run_script('captcha_generator.py', font, '--count', 6, '--rec', path, '--seed', 9)
    assert result.returncode == 0, result.stderr
    records = RecordCaptchaSet(str(path), num_label=4, shuffle=False)
    images, labels = records.get_batch(6)
    drawn = DigitCaptcha([font], seed=9)
    for image, label in zip(images, labels):
        expected_image, digits = drawn.get()
        np.testing.assert_array_equal(label, encode_label(digits, 4))
        np.testing.assert_array_equal(image, expected_image)  # PNG is lossless
    assert not list(tmp_path.glob('*.tmp*'))


def test_record_set_shuffles_each_pass_and_keeps_every_sample(tmp_path, font):
    path = tmp_path / 'train.rec'
    run_script('captcha_generator.py', font, '--count', 8, '--rec', path, '--seed', 1)
    records = RecordCaptchaSet(str(path), num_label=4, seed=0)
    passes = [np.concatenate([records.get_batch(4)[1] for _ in range(2)]) for _ in range(3)]
    in_file = RecordCaptchaSet(str(path), num_label=4, shuffle=False).get_batch(8)[1]
    for labels in passes:
        assert sorted(map(tuple, labels)) == sorted(map(tuple, in_file))
    assert any(not np.array_equal(a, b) for a, b in zip(passes, passes[1:]))

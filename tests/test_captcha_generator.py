"""Drawing captchas of any alphabet and length, and the generator's command line."""
import cv2
import numpy as np
import pytest
from captcha.image import ImageCaptcha

from captcha_generator import TextCaptcha
from common import datasets
from common.alphabet import Alphabet, parse_charset
from common.captcha_styles import (
    CAPTCHA_HEIGHT,
    CAPTCHA_NOISE,
    CAPTCHA_WIDTH,
    HELD_OUT,
    STYLES,
    MeasuringOnceCaptcha,
)
from common.fonts import TRAINING_FONTS, find_fonts
from common.image_conversion import Conversion
from conftest import assert_one_line_error, run_script


def test_text_captcha_is_random_and_reproducible(font):
    first, second = TextCaptcha([font], seed=7), TextCaptcha([font], seed=7)
    samples = [first.get() for _ in range(5)]
    for view, text in samples:
        assert view.shape == (30, 80) and view.dtype == np.uint8
        assert 3 <= len(text) <= 4 and text.isdigit()
    again = [second.get() for _ in range(5)]
    assert [t for _, t in samples] == [t for _, t in again]
    np.testing.assert_array_equal(samples[-1][0], again[-1][0])
    assert len({t for _, t in samples}) > 1


def test_any_alphabet_and_length(font):
    alphabet = Alphabet(parse_charset('0-9A-Z'))
    captcha = TextCaptcha([font], alphabet, length=(4, 6), num_label=6, seed=1)
    texts = [captcha.random_text() for _ in range(200)]
    assert {len(t) for t in texts} == {4, 5, 6}
    assert set(''.join(texts)) <= set(alphabet.chars) and any(t.isalpha() for t in texts)
    views, labels = captcha.get_batch(3)
    assert views.shape == (3, 30, 80) and labels.shape == (3, 6)
    assert all(4 <= len(alphabet.label_text(label)) <= 6 for label in labels)


def test_measuring_once_draws_what_the_captcha_package_draws():
    fonts = TRAINING_FONTS[:3]  # boxes differ between fonts: a cache that mixed them would show
    package, ours = ImageCaptcha(fonts=fonts), MeasuringOnceCaptcha(fonts=fonts)
    for noise_seed in range(40):
        digits = f"{noise_seed * 7919 % 10000:04d}"
        CAPTCHA_NOISE.seed(noise_seed)
        expected = np.asarray(package.generate_image(digits))
        CAPTCHA_NOISE.seed(noise_seed)
        np.testing.assert_array_equal(np.asarray(ours.generate_image(digits)), expected)


@pytest.mark.parametrize('style', STYLES)
def test_every_style_draws_the_same_image_from_the_same_seed(style, font):
    drawn = [TextCaptcha([font], seed=5, style=style).draw('4071') for _ in range(2)]
    other = TextCaptcha([font], seed=6, style=style).draw('4071')
    assert drawn[0].dtype == np.uint8 and drawn[0].ndim == 3 and drawn[0].shape[2] == 3
    np.testing.assert_array_equal(drawn[0], drawn[1])
    assert other.shape != drawn[0].shape or not np.array_equal(other, drawn[0])


def test_plain_is_the_packages_size_and_other_looks_have_their_own(font):
    plain = {TextCaptcha([font], seed=s).draw('4071').shape for s in range(4)}
    assert plain == {(CAPTCHA_HEIGHT, CAPTCHA_WIDTH, 3)}
    for style in HELD_OUT:
        looks = {TextCaptcha([font], seed=s, style=style).draw('4071').shape for s in range(4)}
        assert len(looks) == 1 and looks != plain, style  # each held-out look: one canvas


def test_plain_first_draws_a_runs_first_captchas_plain(font):
    plain = TextCaptcha([font], seed=5)
    mixed = TextCaptcha([font], seed=5, style='robust', plain_first=4)
    pairs = [(plain.get(), mixed.get()) for _ in range(12)]
    for (plain_view, plain_text), (view, text) in pairs[:4]:
        assert text == plain_text
        np.testing.assert_array_equal(view, plain_view)
    assert any(not np.array_equal(a[0], b[0]) for a, b in pairs[4:])  # then the mix


def test_get_batch_labels_match_texts(font):
    views, labels = TextCaptcha([font], seed=3).get_batch(6)
    view, text = TextCaptcha([font], seed=3).get()
    np.testing.assert_array_equal(labels[0], Alphabet().encode(text, 4))
    np.testing.assert_array_equal(views[0], view)


def test_find_fonts(tmp_path, font):
    assert find_fonts(font) == [font]
    with pytest.raises(ValueError, match='does not exist'):
        find_fonts(str(tmp_path / 'missing.ttf'))
    with pytest.raises(ValueError, match='no .ttf'):
        find_fonts(str(tmp_path))
    (tmp_path / 'fake.ttf').write_text('not a font')
    with pytest.raises(ValueError, match='not a readable TrueType font'):
        find_fonts(str(tmp_path))


def test_fonts_without_the_alphabets_glyphs_are_named(font):
    with pytest.raises(ValueError, match="cannot draw 'é'"):
        find_fonts(TRAINING_FONTS[-1], '0-9é')  # Computer Modern Sans has no é glyph


def test_cli_writes_full_size_captcha(tmp_path, font):
    out = tmp_path / 'sample.jpg'
    result = run_script('captcha_generator.py', font, out, '--num', '0089')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Captcha image with digits [0, 0, 8, 9] written to {out}"
    assert cv2.imread(str(out)).shape == (60, 160, 3)
    result = run_script('captcha_generator.py', font, '--charset', '0-9A-Z', out, '--text',
                        'A7K2Q')  # options may stand between the font and the output
    assert result.stdout.strip() == f"Captcha image with text 'A7K2Q' written to {out}"


@pytest.mark.parametrize('args,says', [
    (['--num', '12a'], '--text must be characters of --charset'),
    (['--charset', 'z-a'], 'backwards'),
    (['--length', '0-3'], 'range of lengths'),
])
def test_cli_rejects_bad_text(args, says, tmp_path, font):
    line = assert_one_line_error(run_script('captcha_generator.py', font, tmp_path / 'x.jpg',
                                            *args))
    assert says in line


def test_cli_writes_a_labelled_folder_reproducibly(tmp_path, font):
    names = []
    for run in ('a', 'b'):
        result = run_script('captcha_generator.py', font, '--count', 12, '--out',
                            tmp_path / run, '--seed', 9, '--charset', '0-9a-z', '--length', '4-6')
        assert result.returncode == 0, result.stderr
        assert '12/12' in result.stderr  # progress
        names.append(sorted(p.name for p in (tmp_path / run).iterdir()))
    assert names[0] == names[1] and len(names[0]) == 12
    for name in names[0]:
        text, index = name[:-4].split('_')
        assert 4 <= len(text) <= 6 and text.isalnum() and 0 <= int(index) < 12
    a, b = (cv2.imread(str(tmp_path / run / names[0][0])) for run in ('a', 'b'))
    np.testing.assert_array_equal(a, b)


def test_cli_needs_output_or_count(tmp_path, font):
    assert 'either OUTPUT' in assert_one_line_error(run_script('captcha_generator.py', font))
    line = assert_one_line_error(run_script('captcha_generator.py', font, '--count', 3))
    assert '--out DIR or --rec FILE' in line


@pytest.mark.slow
def test_record_file_holds_the_captchas_as_drawn(tmp_path, font):
    path = tmp_path / 'train.rec'
    result = run_script('captcha_generator.py', font, '--count', 6, '--rec', path, '--seed', 9,
                        '--charset', '0-9A-Z', '--length', '5')
    assert result.returncode == 0, result.stderr
    assert (tmp_path / 'train.idx').is_file() and not list(tmp_path.glob('*.tmp*'))
    drawn = TextCaptcha([font], Alphabet(parse_charset('0-9A-Z')), (5, 5), seed=9)
    for data, text in datasets.read_records(str(path)):
        expected_text = drawn.random_text()
        assert text == expected_text
        np.testing.assert_array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), 1),
                                      drawn.draw(text))  # PNG is lossless
    views, texts, _ = datasets.load(str(path), Conversion(), str(tmp_path))
    assert views.shape == (6, 30, 80) and len(texts) == 6

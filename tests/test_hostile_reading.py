"""Hostile images (issue #35) meet one decoding gate: refused from their header, in little
memory, as one ValueError subclass; lstm_ocr_infer.py says so in one line and still reads the
good images beside them."""
import io
import os
import resource
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from common.image_conversion import (
    MAX_ASPECT,
    MAX_PIXELS,
    MAX_WINDOWS,
    Conversion,
    ImageTooLargeError,
    UnreadableImageError,
    decode_image,
    on_white,
    window_boxes,
)
from conftest import (
    REPO,
    assert_one_line_error,
    draw_captchas,
    file_permissions_apply,
)
from tools.hostile_inputs import gif_declaring, image_bombs, png_declaring, png_of
from training.model_config import SHIPPED_ONNX

# what the issue's files are: format, declared size, Pillow's mode
ISSUE_FILES = {'png_10000x1': ('PNG', (10000, 1), 'L'),
               'png_100000x1': ('PNG', (100000, 1), 'L'),
               'png_palette_20000x20000': ('PNG', (20000, 20000), 'P'),
               'webp_16383x16383': ('WEBP', (16383, 16383), 'RGBA'),
               'gif_12000x12000': ('GIF', (12000, 12000), 'P'),
               'gif_screen_65535x65535': ('GIF', (65535, 65535), 'P'),
               'gif_20000x20000': ('GIF', (20000, 20000), 'P'),
               'png_60000x60000': ('PNG', (60000, 60000), 'L'),
               'png_4000x4000': ('PNG', (4000, 4000), '1'),
               'png_strip_100000x150': ('PNG', (100000, 150), 'L')}
RSS_GROWTH_BOUND_MB = 100


@pytest.fixture(scope='module')
def bombs():
    return image_bombs()


def test_the_bombs_are_what_the_issue_describes(bombs, monkeypatch):
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', None)  # to see what they declare
    assert set(bombs) == set(ISSUE_FILES)
    for name, data in bombs.items():
        with Image.open(io.BytesIO(data)) as image:
            assert (image.format, image.size, image.mode) == ISSUE_FILES[name], name
            if name == 'png_palette_20000x20000':
                assert 'transparency' in image.info
        assert len(data) < 16_000, name  # tiny files


def test_every_bomb_is_refused_from_its_header_in_little_memory(bombs):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, data in bombs.items():
        with pytest.raises(ImageTooLargeError, match=name):
            decode_image(data, name)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    assert grown < RSS_GROWTH_BOUND_MB
    assert issubclass(ImageTooLargeError, UnreadableImageError)
    assert issubclass(UnreadableImageError, ValueError)  # what every caller catches


def test_the_limits_are_where_they_say():
    side = int(MAX_PIXELS ** 0.5)
    assert decode_image(png_of(side, side)).shape == (side, side, 3)
    with pytest.raises(ImageTooLargeError, match=f"{side + 1} x {side} pixels"):
        decode_image(png_of(side + 1, side))
    assert decode_image(png_of(MAX_ASPECT * 10, 10)).shape == (10, MAX_ASPECT * 10, 3)
    assert decode_image(png_of(10, MAX_ASPECT * 10)).shape == (MAX_ASPECT * 10, 10, 3)
    with pytest.raises(ImageTooLargeError, match='times as wide as tall'):
        decode_image(png_of(MAX_ASPECT * 10 + 1, 10))


def test_a_file_whose_pixels_do_not_decode_is_one_unreadable_image_error():
    for data in (png_declaring(100, 50), gif_declaring(100, 50), b'GIF89a' + b'\0' * 40 + b';'):
        with pytest.raises(UnreadableImageError, match='cannot read'):
            decode_image(data)


def test_transparency_lies_on_white_exactly_as_before():
    """on_white's integers give what the float blend gave, for every colour and alpha."""
    colour, alpha = np.meshgrid(np.arange(256), np.arange(256))
    bgra = np.stack([colour, 255 - colour, colour // 2, alpha], -1).astype(np.uint8)
    share = bgra[:, :, 3:].astype(np.float32) / 255
    floats = (bgra[:, :, :3] * share + 255 * (1 - share)).round().astype(np.uint8)
    np.testing.assert_array_equal(on_white(bgra), floats)


def test_the_windows_of_a_long_strip_are_bounded():
    conversion = Conversion('ink', 160, 60)
    strip = np.full((100, 100 * MAX_ASPECT, 3), 255, np.uint8)
    boxes = window_boxes(100, 100 * MAX_ASPECT, 160 / 60, 60)
    assert 0 < len(boxes) <= MAX_WINDOWS
    assert conversion.window_views(strip).shape == (len(boxes), 60, 160)
    assert len(window_boxes(270, 480, 160 / 60, 60)) == 29  # a poster canvas: as before


# --- lstm_ocr_infer.py ----------------------------------------------------------------------

@pytest.fixture(scope='module')
def good_images(tmp_path_factory, font):
    return draw_captchas(tmp_path_factory.mktemp('good'), font, 4, seed=5)


def infer(*args, **kwargs):
    return subprocess.run([sys.executable, os.path.join(REPO, 'lstm_ocr_infer.py'), '--onnx',
                           SHIPPED_ONNX, *map(str, args)], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, **kwargs)


@pytest.mark.parametrize('name', sorted(ISSUE_FILES))
def test_the_cli_refuses_each_bomb_in_one_line(name, bombs, tmp_path):
    path = tmp_path / f"{name}.{ISSUE_FILES[name][0].lower()}"
    path.write_bytes(bombs[name])
    line = assert_one_line_error(infer(path))
    assert str(path) in line and ('past the limits' in line or 'too large' in line)


def test_a_folder_with_a_bomb_still_reads_every_good_image(good_images, bombs, tmp_path):
    for path in good_images:
        shutil.copy(path, tmp_path)
    bomb = tmp_path / 'bomb.gif'
    bomb.write_bytes(bombs['gif_screen_65535x65535'])
    alone = infer('--json', *good_images)
    assert alone.returncode == 0, alone.stderr
    mixed = infer('--json', tmp_path)
    assert mixed.returncode == 1
    assert mixed.stdout.replace(str(tmp_path), 'X') == \
        alone.stdout.replace(str(good_images[0].parent), 'X')
    lines = mixed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and str(bomb) in lines[0]


def test_an_unreadable_file_or_folder_is_a_one_line_error(good_images, tmp_path):
    image = tmp_path / 'locked.png'
    shutil.copy(good_images[0], image)
    image.chmod(0)
    result = infer(image, preexec_fn=file_permissions_apply)
    line = assert_one_line_error(result)
    assert 'cannot open image' in line and 'Permission denied' in line
    locked = tmp_path / 'locked'
    locked.mkdir(0)
    try:
        line = assert_one_line_error(infer(locked, preexec_fn=file_permissions_apply))
        assert 'cannot list folder' in line and 'Permission denied' in line
    finally:
        locked.chmod(0o755)  # for pytest to remove it

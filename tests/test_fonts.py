"""The fonts captchas are drawn with: the Debian packages set-up installs, split by family
into training and held-out fonts, and get_fonts.py copying them."""
import os

import pytest
from PIL import ImageFont

from common.fonts import (
    ALPHANUMERIC,
    DEBIAN_FONT_PACKAGES,
    DEBIAN_HELD_OUT_PACKAGES,
    DEBIAN_TRAINING_PACKAGES,
    LEFT_OUT_PACKAGES,
    NOT_TEXT_FACES,
    copy_names,
    installed_fonts,
    missing_packages,
)
from conftest import assert_one_line_error, run_script

DEBIAN_FONTS_INSTALLED = not missing_packages()
needs_debian_fonts = pytest.mark.skipif(
    not DEBIAN_FONTS_INSTALLED, reason="./run.sh setup installs them as root with apt-get")


def test_held_out_families_are_never_trained_on():
    assert not set(DEBIAN_TRAINING_PACKAGES) & set(DEBIAN_HELD_OUT_PACKAGES)
    assert len(set(DEBIAN_TRAINING_PACKAGES)) == len(DEBIAN_TRAINING_PACKAGES)
    assert not set(LEFT_OUT_PACKAGES) & set(DEBIAN_FONT_PACKAGES)  # relatives of held-out ones


def test_copy_names_are_unique_and_keep_plain_names():
    fonts = ['/a/Sans.ttf', '/usr/share/fonts/x/Normal/Mono.ttf',
             '/usr/share/fonts/x/Loose/Mono.ttf']
    names = copy_names(fonts)
    assert names['/a/Sans.ttf'] == 'Sans.ttf'
    assert len(set(names.values())) == 3
    assert all(name.endswith('Mono.ttf') for name in list(names.values())[1:])


def test_missing_packages_names_what_dpkg_lacks():
    assert missing_packages(['fonts-no-such-package-here']) == ['fonts-no-such-package-here']


@pytest.mark.slow
@needs_debian_fonts
def test_installed_fonts_draw_the_whole_alphanumeric_alphabet():
    fonts = installed_fonts(DEBIAN_HELD_OUT_PACKAGES)
    assert len(fonts) > 100
    assert not NOT_TEXT_FACES & {os.path.basename(f) for f in fonts}
    for path in fonts[::20]:
        font = ImageFont.truetype(path, 30)
        assert all(font.getmask(c).getbbox() for c in ALPHANUMERIC), path


@pytest.mark.slow
@needs_debian_fonts
def test_get_fonts_wide_copies_training_and_held_out_fonts_apart(tmp_path):
    train, held_out = tmp_path / 'wide', tmp_path / 'unseen_wide'
    assert run_script('tools/get_fonts.py', '--wide', train).returncode == 0
    assert run_script('tools/get_fonts.py', '--wide', '--unseen', held_out).returncode == 0
    train_files, held_out_files = set(os.listdir(train)), set(os.listdir(held_out))
    assert 'DroidSansMono.ttf' in train_files and len(train_files) > 500
    assert len(held_out_files) > 100 and not train_files & held_out_files
    assert not [f for f in os.listdir(tmp_path) if f.endswith('.tmp')]


def test_get_fonts_wide_without_debian_fonts_is_one_line(tmp_path):
    if DEBIAN_FONTS_INSTALLED:
        pytest.skip("the Debian fonts are installed here")
    assert_one_line_error(run_script('tools/get_fonts.py', '--wide', tmp_path / 'wide'))

"""The fonts captchas are drawn with: which free fonts pip packages ship, and which font
files can draw an alphabet.

The `captcha` package ships DroidSansMono (Apache 2.0); matplotlib ships the DejaVu
(Bitstream Vera licence), STIX (SIL OFL) and Computer Modern (BaKoMa licence) families.
Pinned package versions mean every machine gets the same font files. `get_fonts.py`
copies them into font/ (training) and unseen/ (kept out of training, for measuring).
"""
import os

import captcha
import matplotlib
from PIL import ImageFont

FONT_SUFFIXES = ('.ttf', '.otf')
CAPTCHA_FONTS = os.path.join(os.path.dirname(captcha.__file__), 'data')
MATPLOTLIB_FONTS = os.path.join(os.path.dirname(matplotlib.__file__), 'mpl-data', 'fonts', 'ttf')
TRAINING_FONTS = [os.path.join(CAPTCHA_FONTS, 'DroidSansMono.ttf')] + [
    os.path.join(MATPLOTLIB_FONTS, name) for name in (
        'DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf',
        'DejaVuSans-BoldOblique.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf',
        'DejaVuSerif-Italic.ttf', 'DejaVuSerif-BoldItalic.ttf', 'STIXGeneral.ttf',
        'STIXGeneralItalic.ttf', 'STIXGeneralBol.ttf', 'cmr10.ttf', 'cmss10.ttf')]
# Every other file there with digits; whole faces the training fonts do not include.
UNSEEN_FONTS = [os.path.join(MATPLOTLIB_FONTS, name) for name in (
    'DejaVuSansMono.ttf', 'DejaVuSansMono-Bold.ttf', 'DejaVuSansMono-Oblique.ttf',
    'DejaVuSansMono-BoldOblique.ttf', 'STIXGeneralBolIta.ttf', 'cmb10.ttf', 'cmtt10.ttf')]


def missing_characters(font_path, chars):
    """The characters of `chars` a font file cannot draw: all of them for a file FreeType
    cannot read; those it has no glyph for (it would draw its 'missing' box); those whose
    glyph comes out blank (a truncated font can load and still draw nothing)."""
    from fontTools.ttLib import TTFont, TTLibError  # only where fonts are chosen
    try:
        font = ImageFont.truetype(font_path, 40)
        with TTFont(font_path, lazy=True) as ttf:
            mapped = ttf.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError, KeyError):
        return chars
    return ''.join(c for c in chars
                   if ord(c) not in mapped or font.getmask(c).getbbox() is None)


def find_fonts(path, chars='0123456789'):
    """A font file, or a folder of them -> sorted font paths that draw every one of `chars`.
    Raises ValueError naming the first that cannot."""
    if os.path.isdir(path):
        fonts = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if f.lower().endswith(FONT_SUFFIXES))
        if not fonts:
            raise ValueError(f"no .ttf or .otf font files in folder {path!r}: add one "
                             "(see README, 'Fonts')")
    elif os.path.isfile(path):
        fonts = [path]
    else:
        raise ValueError(f"font path {path!r} does not exist: give a .ttf file or a folder "
                         "of them")
    for font in fonts:
        missing = missing_characters(font, chars)
        if missing == chars:
            raise ValueError(f"{font!r} is not a readable TrueType font that draws "
                             f"{chars!r}: replace or remove it")
        if missing:
            raise ValueError(f"{font!r} cannot draw {missing!r}: remove it or choose "
                             "another --charset")
    return fonts

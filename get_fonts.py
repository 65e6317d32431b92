"""Copy free TrueType fonts that pip packages ship into a folder.

    python get_fonts.py font/            # the training fonts
    python get_fonts.py --unseen unseen/ # fonts kept out of training, to test generalisation

The `captcha` package ships DroidSansMono (Apache 2.0); matplotlib ships the DejaVu
(Bitstream Vera licence), STIX (SIL OFL) and Computer Modern (BaKoMa licence) families.
Pinned package versions mean every machine gets the same font files.
"""
import os
import shutil

import captcha
import matplotlib

from cli import Parser

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


def copy_fonts(fonts, folder):
    os.makedirs(folder, exist_ok=True)
    for font in fonts:
        shutil.copy(font, folder)
        print(f"{os.path.join(folder, os.path.basename(font))}")


def main():
    parser = Parser(description="Copy free fonts shipped by pip packages into a folder.")
    parser.add_argument('folder', nargs='?', default='font', help="where to put the fonts")
    parser.add_argument('--unseen', action='store_true',
                        help="copy the held-out fonts that training never sees instead")
    args = parser.parse_args()
    copy_fonts(UNSEEN_FONTS if args.unseen else TRAINING_FONTS, args.folder)


if __name__ == '__main__':
    main()

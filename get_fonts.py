"""Copy free TrueType fonts that pip packages ship into a folder (fonts.py says which).

    python get_fonts.py font/            # the training fonts
    python get_fonts.py --unseen unseen/ # fonts kept out of training, to test generalisation
"""
import os
import shutil

from cli import Parser
from fonts import TRAINING_FONTS, UNSEEN_FONTS


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

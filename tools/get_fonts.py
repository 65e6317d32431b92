"""Copy free fonts into a folder (fonts.py says which): those pip packages ship, and with
--wide those of the Debian font packages `./run.sh setup` installs.

    python tools/get_fonts.py font/                   # the training fonts
    python tools/get_fonts.py --unseen unseen/        # fonts kept out of training
    python tools/get_fonts.py --wide font_wide/       # font/'s and ~700 Debian ones (robust recipe)
    python tools/get_fonts.py --wide --unseen unseen_wide/   # ~160 held-out Debian ones
"""
import os
import sys

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, fail
from common.fonts import (
    DEBIAN_HELD_OUT_PACKAGES,
    DEBIAN_TRAINING_PACKAGES,
    TRAINING_FONTS,
    UNSEEN_FONTS,
    copy_fonts,
    installed_fonts,
)


def main():
    parser = Parser(description="Copy free fonts shipped by pip and Debian packages into a "
                                "folder.")
    parser.add_argument('folder', nargs='?', default='font', help="where to put the fonts")
    parser.add_argument('--unseen', action='store_true',
                        help="copy the held-out fonts that training never sees instead")
    parser.add_argument('--wide', action='store_true',
                        help="add the installed Debian font packages of fonts.py")
    args = parser.parse_args()
    fonts = UNSEEN_FONTS if args.unseen else TRAINING_FONTS
    if args.wide:
        debian = installed_fonts(DEBIAN_HELD_OUT_PACKAGES if args.unseen
                                 else DEBIAN_TRAINING_PACKAGES)
        if not debian:
            fail("no Debian font packages installed: run ./run.sh setup as root, or "
                 "apt-get install the packages fonts.py lists")
        fonts = debian if args.unseen else fonts + debian
    copy_fonts(fonts, args.folder)
    print(f"{len(fonts)} fonts in {args.folder}")


if __name__ == '__main__':
    main()

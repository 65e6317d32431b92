"""Draw labelled digit captchas with public captcha generators, to read what this example
never drew.

Run it inside a throwaway environment, never the project's: it imports the generator packages,
which are no dependency of this project and are never trained on (docs/other-generators.md):

    python3 -m venv /tmp/gen-env
    /tmp/gen-env/bin/pip install ddddocr==1.6.1 claptcha==0.3.3 wheezy.captcha==3.2.2 \\
        multicolorcaptcha==1.2.0 easy-captcha==1.3.3 generate-captcha==0.0.4
    /tmp/gen-env/bin/pip install --no-deps captchagen==0.1.0 captchagenerator==2.0.0 \\
        util-captcha==0.2.2
    /tmp/gen-env/bin/pip install pillow==9.5.0
    /tmp/gen-env/bin/python tools/other_generators.py --out data --count 300

Pillow 9.5 because claptcha and generate-captcha call `getsize`, gone in Pillow 10, and
util-captcha pins Pillow < 10; captchagen and captchagenerator ask for Pillow >= 10 (pip
warns) but draw the same with 9.5. procaptcha 1.1.0 is left out: it has no digits-only text.

Each generator writes `<text>_<index>.png` into OUT/dev-<generator>/, drawn with its default or
documented settings and the font it ships (DejaVu Sans where it needs one given).
"""
import argparse
import os
import random
import sys
import tempfile

DIGITS = '0123456789'
DEJAVU_SANS = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'


def random_digits(length=4):
    """Digits drawn from the seeded `random`, for generators that are given their text."""
    return ''.join(random.choice(DIGITS) for _ in range(length))


def draw_claptcha(folder, index):
    """claptcha as its documentation draws it: 200x80, noise 0.3; it needs a font (DejaVu Sans)."""
    from claptcha import Claptcha
    text, image = Claptcha(random_digits(), DEJAVU_SANS, size=(200, 80), noise=0.3).image
    return text, image


def draw_wheezy(folder, index):
    """wheezy.captcha with its documented pipeline; it needs a font (DejaVu Sans)."""
    from wheezy.captcha import image as wz
    draw = wz.captcha(drawings=[
        wz.background(),
        wz.text(fonts=[DEJAVU_SANS], drawings=[wz.warp(), wz.rotate(), wz.offset()]),
        wz.curve(), wz.noise(), wz.smooth()])
    text = random_digits()
    return text, draw(list(text))


def draw_multicolorcaptcha(folder, index):
    """multicolorcaptcha's defaults: size number 2 (as documented), difficulty 2, digits,
    one colour, its fonts."""
    from multicolorcaptcha import CaptchaGenerator
    captcha = CaptchaGenerator(2).gen_captcha_image(difficult_level=2)
    return captcha.characters, captcha.image


def draw_captchagen(folder, index):
    """CaptchaGen's defaults (200x80, black, no turn, no noise) with text_mode digits, 4 long.

    It takes a folder of .ttf fonts and picks one per character: a folder holding DejaVu Sans alone.
    """
    from CaptchaGen import CaptchaConfig, CaptchaGenerator
    with tempfile.TemporaryDirectory() as fonts:
        os.symlink(DEJAVU_SANS, os.path.join(fonts, 'DejaVuSans.ttf'))
        generator = CaptchaGenerator(fonts, CaptchaConfig(text_mode='digits', min_len=4, max_len=4))
        image, text = generator.generate()
    return text, image


def draw_util_captcha(folder, index):
    """util-captcha's documented default (chars, noise curves, noise dots; 120x40 RGBA) with
    its arial.ttf."""
    from util_captcha import ImageCaptcha
    captcha = ImageCaptcha()
    text = random_digits()
    captcha.draw_chars(text)
    captcha.draw_noise_curve()
    captcha.draw_noise_dots()
    return text, captcha.canvas


def draw_easy_captcha(folder, index):
    """easy-captcha's DefaultGenerator (its TruenoBdOlIt font, any turn, lines, dots, arcs;
    100x50)."""
    from captcha import DefaultGenerator
    text = random_digits()
    return text, DefaultGenerator().make_captcha(text)


def draw_easy_captcha_simple(folder, index):
    """easy-captcha's SimpleGenerator (its AuxinMedium font, upright, a colour per glyph;
    100x50)."""
    from captcha import SimpleGenerator
    text = random_digits()
    return text, SimpleGenerator().make_captcha(text)


def draw_captchagenerator(folder, index):
    """CaptchaGenerator's documented TextCaptcha (720x240, navy/dark red, medium, modern)
    with digits.

    Given no font it falls back to DejaVu Sans; it is named here so that the fallback is sure.
    """
    from CaptchaGenerator import CaptchaConfig, TextCaptcha
    name = f'_drawing_{index}'
    text = TextCaptcha(CaptchaConfig(width=720, height=240)).generate(
        number_gen=4, values_captcha=DIGITS, name_export=name, path_export=folder,
        fonts=[DEJAVU_SANS], colors=['navy', 'darkred'], backgrounds=[],
        difficulty='medium', style='modern')
    return text, os.path.join(folder, name + '.png')


def draw_generate_captcha(folder, index):
    """generate-captcha's defaults (160x40, blue on white, its digits 2-9 without repeats).

    Its default font (msyh.ttf) is not in the package, so DejaVu Sans is given.
    """
    from generate_captcha import gen_captcha_text_image
    name = f'_drawing_{index}'
    text, path = gen_captcha_text_image(folder, file_name=name, font_type=DEJAVU_SANS)
    return text, path


GENERATORS = {
    'claptcha': draw_claptcha,
    'wheezy': draw_wheezy,
    'multicolorcaptcha': draw_multicolorcaptcha,
    'captchagen': draw_captchagen,
    'util-captcha': draw_util_captcha,
    'easy-captcha': draw_easy_captcha,
    'easy-captcha-simple': draw_easy_captcha_simple,
    'captchagenerator': draw_captchagenerator,
    'generate-captcha': draw_generate_captcha,
}


def save(drawn, folder, text, index):
    """Store a drawing, an image or a file the generator wrote itself, as `<text>_<index>.png`."""
    target = os.path.join(folder, f'{text}_{index}.png')
    if isinstance(drawn, str):
        os.replace(drawn, target)
    else:
        drawn.save(target)


def draw_set(name, out, count, seed):
    """Draw `count` captchas with one generator into OUT/dev-<name>/, seeded for a repeatable
    set."""
    folder = os.path.join(out, f'dev-{name}')
    os.makedirs(folder, exist_ok=True)
    random.seed(seed)
    for index in range(count):
        text, drawn = GENERATORS[name](folder, index)
        save(drawn, folder, text, index)
    return folder


def parse_args():
    parser = argparse.ArgumentParser(description=' '.join(__doc__.split('\n\n')[0].split()))
    parser.add_argument('generators', nargs='*', default=list(GENERATORS),
                        help=f'which to draw (default: all): {", ".join(GENERATORS)}')
    parser.add_argument('--out', default='data', help='folder that gets dev-<generator>/')
    parser.add_argument('--count', type=int, default=300, help='captchas per generator')
    parser.add_argument('--seed', type=int, default=36, help='seed of `random` before each set')
    return parser.parse_args()


def main():
    args = parse_args()
    unknown = [name for name in args.generators if name not in GENERATORS]
    if unknown:
        sys.exit(f'error: unknown generator {unknown[0]}; known: {", ".join(GENERATORS)}')
    for name in args.generators:
        try:
            print(draw_set(name, args.out, args.count, args.seed))
        except (ImportError, OSError) as err:
            sys.exit(f'error: {name}: {err}')


if __name__ == '__main__':
    main()

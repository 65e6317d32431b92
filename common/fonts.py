"""The fonts captchas are drawn with: which free fonts pip packages ship, and which font
files can draw an alphabet.

The `captcha` package ships DroidSansMono (Apache 2.0); matplotlib ships the DejaVu
(Bitstream Vera licence), STIX (SIL OFL) and Computer Modern (BaKoMa licence) families.
Pinned package versions mean every machine gets the same font files. `get_fonts.py`
copies them into font/ (training) and unseen/ (kept out of training, for measuring).

Debian's font packages add several hundred more faces of over a hundred families for the
`robust` recipe: `./run.sh setup` installs DEBIAN_FONT_PACKAGES where it may (root, apt-get),
and `get_fonts.py --wide` copies the training ones (with font/'s) into font_wide/ and the
held-out ones into unseen_wide/. Packages are held out whole, so no weight or slant of a
held-out face is trained on, and packages of their relatives are left out of both.
"""
import os
import shutil
import subprocess

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


# Latin packages of Debian 12 whose faces draw 0-9, A-Z and a-z: text faces, monospaced,
# rounded, condensed, script, handwriting, display, stencil-like and hollow ones.
DEBIAN_TRAINING_PACKAGES = (
    'fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 fonts-croscore '
    'fonts-crosextra-carlito fonts-crosextra-caladea fonts-roboto-unhinted fonts-roboto-slab '
    'fonts-open-sans fonts-lato fonts-linuxlibertine fonts-ebgaramond fonts-comic-neue '
    'fonts-hack fonts-go fonts-inconsolata fonts-jetbrains-mono fonts-firacode fonts-quicksand '
    'fonts-oxygen fonts-dancingscript fonts-tuffy fonts-inter '
    'fonts-league-spartan fonts-ocr-a fonts-b612 fonts-play fonts-oldstandard '
    'fonts-quattrocento fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis '
    'fonts-adf-irianis fonts-adf-libris fonts-adf-mekanus fonts-adf-oldania '
    'fonts-adf-switzera fonts-adf-tribun fonts-adf-universalis fonts-adf-verana fonts-dustin '
    'fonts-sil-gentium fonts-texgyre fonts-beteckna '
    'fonts-yanone-kaffeesatz fonts-okolaks fonts-opendin '
    'fonts-national-park fonts-roadgeek fonts-junction fonts-fanwood fonts-goudybookletter '
    'fonts-breip fonts-femkeklaver fonts-sora fonts-osifont fonts-engadget fonts-f500 '
    'fonts-staypuft fonts-summersby fonts-isabella fonts-radisnoir fonts-rufscript '
    'fonts-opendyslexic fonts-monofur fonts-fantasque-sans fonts-agave fonts-clear-sans '
    'fonts-arkpandora fonts-paratype fonts-rampart fonts-allerta '
    'fonts-century-catalogue fonts-lindenhill fonts-gnutypewriter '
    'fonts-apropal fonts-bajaderka fonts-compagnon fonts-routed-gothic fonts-cantarell '
    'fonts-ubuntu-title fonts-dkg-handwriting fonts-sjfonts fonts-tomsontalks '
    'fonts-oflb-asana-math fonts-gotico-antiqua fonts-klaudia-berenika fonts-solide-mirage '
    'fonts-le-murmure fonts-ferrite-core fonts-havana fonts-prociono fonts-elstob '
    'fonts-essays1743 fonts-pc').split()
# Relatives of held-out families, in neither list, so that no held-out family is trained on
# in another cut: fonts-cmu (Computer Modern Unicode) re-cuts unseen/'s cmb10 and cmtt10;
# Averia and Averia Sans are Averia Serif's siblings, Lobster is Lobster Two's, Cabin
# Sketch is Cabin's outline and Karmilla is derived from Karla.
LEFT_OUT_PACKAGES = ('fonts-cmu fonts-averia-gwf fonts-averia-sans-gwf fonts-lobster '
                     'fonts-cabinsketch fonts-karmilla').split()
# Held out for measuring, about one family in five, of every kind above.
DEBIAN_HELD_OUT_PACKAGES = (
    'fonts-cabin fonts-karla fonts-vollkorn fonts-adf-gillius fonts-adf-romande '
    'fonts-sil-charis fonts-jura fonts-dosis fonts-manrope fonts-comfortaa fonts-lobstertwo '
    'fonts-leckerli-one fonts-humor-sans fonts-kristi fonts-cherrybomb fonts-train '
    'fonts-hermit fonts-mononoki fonts-ocr-b fonts-arapey fonts-tiresias '
    'fonts-averia-serif-gwf fonts-eurofurence fonts-bebas-neue').split()
DEBIAN_FONT_PACKAGES = DEBIAN_TRAINING_PACKAGES + DEBIAN_HELD_OUT_PACKAGES
# Faces that draw something else for letters or digits: dingbats, Greek, keyboard keys,
# white characters on black boxes.
NOT_TEXT_FACES = {'D050000L.otf', 'StandardSymbolsPS.otf', 'LinBiolinum_K.otf', 'OCRBE.otf',
                  'OCRBX.otf'}
ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'


def missing_packages(packages=DEBIAN_FONT_PACKAGES):
    """Those of `packages` dpkg does not have installed (all of them without dpkg)."""
    try:
        status = subprocess.run(['dpkg-query', '-W', '-f=${Package} ${Status}\n', *packages],
                                capture_output=True, text=True).stdout
    except FileNotFoundError:
        return list(packages)
    installed = {line.split()[0] for line in status.splitlines()
                 if line.endswith(' installed')}
    return [p for p in packages if p not in installed]


def installed_fonts(packages, chars=ALPHANUMERIC):
    """Font files of the installed Debian `packages` that draw every one of `chars`, sorted;
    packages not installed give none. Links are left out: they repeat a file of the same
    package or of another one (fonts-lobstertwo links to fonts-lobster's Lobster)."""
    listing = subprocess.run(['dpkg', '-L', *packages], capture_output=True, text=True).stdout
    paths = {line for line in listing.splitlines() if line.lower().endswith(FONT_SUFFIXES)}
    return sorted(p for p in paths if os.path.basename(p) not in NOT_TEXT_FACES
                  and os.path.isfile(p) and not os.path.islink(p)
                  and not missing_characters(p, chars))


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
                             "(see docs/troubleshooting.md, 'Fonts')")
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


def copy_names(fonts):
    """font path -> file name in the folder: its own, or its whole path joined by '-' where
    two files share one (a package can ship variants of a face in sibling folders)."""
    names = [os.path.basename(f) for f in fonts]
    return {f: n if names.count(n) == 1 else f.strip(os.sep).replace(os.sep, '-')
            for f, n in zip(fonts, names)}


def copy_fonts(fonts, folder):
    """Copy `fonts` into `folder`, adding to what is there; a new folder appears whole or
    not at all (run.sh takes an existing one as done)."""
    target = folder if os.path.isdir(folder) else folder.rstrip(os.sep) + '.tmp'
    os.makedirs(target, exist_ok=True)
    for font, name in copy_names(fonts).items():
        shutil.copy(font, os.path.join(target, name))
    if target != folder:
        os.rename(target, folder)

"""How captchas look: the `captcha` package's own drawing ('plain', the original example's),
and a style layer that makes them look like other people's ('robust', and the held-out
styles).

The `captcha` package stays the renderer: every character is its `_draw_character` (the
font at one of its sizes, rotated and warped as it does). This module lays the glyphs out
and dresses them the ways other generators do, every knob drawn at random per image:
canvas size and aspect, margins and where the text sits; background colour, gradient,
texture or fine noise; text colour and contrast (light on dark too, a colour per
character, a gradient); outlined and hollow glyphs; character size, spacing and overlap;
rotation, shear and perspective; lines and curves under and over the text; rings and blobs
under it, dots over it; grain; blur; JPEG artefacts. It is numpy and OpenCV over whole
arrays: a few milliseconds an image.

`HELD_OUT` styles are for measuring only. Each uses effects that `training_style` never
draws (a wave warp of the rows, checkerboard, striped and grid backgrounds, drop shadows,
glyphs printed as a screen of dots or filled with hatching) and is drawn with fonts from
unseen/, families training never sees.
"""
import random

import captcha.image
import cv2
import numpy as np
from captcha.image import ImageCaptcha
from PIL import Image, ImageDraw

CAPTCHA_WIDTH, CAPTCHA_HEIGHT = 160, 60  # what the captcha package draws
PLAIN_SHARE = 0.25  # of 'robust' captchas, drawn by the package exactly as in 'plain'
# glyph masks banked per character and turns, and how often served again instead of drawn,
# and the tallest canvas drawn for training: docs/decisions.md#drawing-cost
GLYPH_BANK, GLYPH_REUSE = 32, 0.9
MAX_DRAWN_HEIGHT = 100


class SeedableSecrets(random.Random):
    """What captcha.image uses of the `secrets` module, from a generator that can be seeded.

    captcha 0.7 draws its noise with `secrets`, which cannot be seeded; without this a
    validation set or a `--seed` run could not be drawn twice alike. Unseeded, it starts
    from os.urandom like any random.Random, so unseeded captchas stay unpredictable."""

    def randbelow(self, n):
        return self.randrange(n)

    def randbits(self, k):
        return self.getrandbits(k)


CAPTCHA_NOISE = SeedableSecrets()
captcha.image.secrets = CAPTCHA_NOISE


class TextBoxes:
    """Stands in for the ImageDraw that ImageCaptcha._draw_character is given, which uses it
    only to measure the character: each (character, font) is measured once."""

    def __init__(self):
        self.draw, self.boxes = None, {}

    def multiline_textbbox(self, xy, text, font):
        key = (xy, text, font)
        if key not in self.boxes:
            self.boxes[key] = self.draw.multiline_textbbox(xy, text, font=font)
        return self.boxes[key]


class MeasuringOnceCaptcha(ImageCaptcha):
    """The captcha package's ImageCaptcha, drawing the same pixels from the same noise
    (tests/test_captcha_generator.py), with each character's box measured once per font
    (docs/decisions.md#measuring-once)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.text_boxes = TextBoxes()

    def _draw_character(self, c, draw, color):
        self.text_boxes.draw = draw
        return super()._draw_character(c, self.text_boxes, color)


def random_colour(rng, lightness=None):
    """An RGB colour as floats 0-255; `lightness` (0-1) fixes its mean roughly."""
    colour = rng.uniform(0, 255, 3)
    if lightness is not None:
        colour = np.clip(colour - colour.mean() + 255 * lightness, 0, 255)
    return colour.astype(np.float32)


def contrasting(rng, background, minimum=110):
    """A colour at least `minimum` away (RGB distance) from `background`."""
    for _ in range(50):
        colour = random_colour(rng)
        if np.linalg.norm(colour - background) >= minimum:
            return colour
    return np.where(background > 127, 0, 255).astype(np.float32)


class Glyphs:
    """Masks (coverage 0-255) of characters as the captcha package draws them.

    With `reuse` above 0, each (character, turn range) keeps a bank of GLYPH_BANK masks
    and serves one of them again at that rate instead of drawing a new one; a new one
    replaces one of them at random, so the bank renews itself. Glyphs are the dearest part
    of a training captcha (docs/decisions.md#drawing-cost)."""

    def __init__(self, fonts, reuse=0.0):
        self.captcha = MeasuringOnceCaptcha(fonts=fonts)
        self.measure = ImageDraw.Draw(Image.new('RGB', (1, 1)))
        self.reuse, self.banks = reuse, {}

    def mask(self, char, rotate, rng):
        """The coverage mask of `char` turned within `rotate`; `rng` picks from the bank."""
        if not self.reuse:
            return self.new_mask(char, rotate)
        bank = self.banks.setdefault((char, rotate), [])
        if len(bank) == GLYPH_BANK and rng.random() < self.reuse:
            return bank[int(rng.integers(GLYPH_BANK))]
        mask = self.new_mask(char, rotate)
        if len(bank) < GLYPH_BANK:
            bank.append(mask)
        else:
            bank[int(rng.integers(GLYPH_BANK))] = mask
        return mask

    def new_mask(self, char, rotate):
        self.captcha.character_rotate = rotate
        glyph = self.captcha._draw_character(char, self.measure, (255, 255, 255, 255))
        return np.asarray(glyph)[:, :, 3]


def layout(glyphs, text, rng, style):
    """Glyphs side by side -> (coverage (h, w) float 0-1, owner (h, w) int: which character
    covers each pixel), with the style's spacing (negative: overlap), vertical jitter and,
    where it has them, a size per glyph and room for their baselines to wander."""
    masks = [glyphs.mask(c, style['rotate'], rng) for c in text]
    if 'glyph_scale' in style:
        masks = [resized(m, rng.uniform(*style['glyph_scale'])) for m in masks]
    steps = [max(1, int(m.shape[1] * (1 + rng.uniform(*style['spacing'])))) for m in masks]
    starts = 8 + np.concatenate([[0], np.cumsum(steps[:-1], dtype=int)])
    height = int(max(m.shape[0] for m in masks) * (1 + style.get('baseline', 0))) + 12
    width = max(x + m.shape[1] for x, m in zip(starts, masks)) + 8
    coverage = np.zeros((height, width), np.float32)
    owner = np.zeros((height, width), np.int32)
    for index, (x, mask) in enumerate(zip(starts, masks)):
        h, w = mask.shape
        y = int(rng.integers(0, height - h + 1))
        region = (slice(y, y + h), slice(x, x + w))
        new = mask.astype(np.float32) / 255
        owner[region] = np.where(new > coverage[region], index, owner[region])
        coverage[region] = np.maximum(coverage[region], new)
    columns = np.flatnonzero(coverage.max(axis=0) > 0.05)
    rows = np.flatnonzero(coverage.max(axis=1) > 0.05)
    crop = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    return coverage[crop], owner[crop]


def resized(mask, factor):
    """A glyph mask scaled by `factor` (at least a pixel each way)."""
    h, w = mask.shape
    return cv2.resize(mask, (max(1, round(w * factor)), max(1, round(h * factor))),
                      interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def place(coverage, owner, rng, style):
    """The text into a canvas of the style's size: scaled, sheared, rotated, perspective-
    distorted -> (coverage, owner) of the canvas's shape. Text larger than the canvas runs
    off its edges: off one side, or, where the style says `crossing`, off both."""
    canvas_h, canvas_w = style['canvas']
    h, w = coverage.shape
    scale = min(canvas_h * style['text_height'] / h, canvas_w * style['text_width'] / w)
    scale_x = scale * style['stretch']
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    target = corners * [scale_x, scale]
    target[:, 0] += target[:, 1] * style['shear']
    centre = target.mean(axis=0)
    angle = np.radians(style['angle'])
    turn = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = (target - centre) @ turn.T
    target += rng.uniform(-1, 1, target.shape) * style['perspective'] * scale * h
    size = target.max(axis=0) - target.min(axis=0)
    slack = [canvas_w, canvas_h] - size
    if not style.get('crossing'):
        slack = np.maximum(slack, 0)
    target += -target.min(axis=0) + slack * style['position']
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    warped = cv2.warpPerspective(coverage, matrix, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR)
    owners = cv2.warpPerspective(owner.astype(np.float32), matrix, (canvas_w, canvas_h),
                                 flags=cv2.INTER_NEAREST).astype(np.int32)
    return warped, owners


def background(rng, style):
    """(h, w, 3) float background of the style's kind."""
    h, w = style['canvas']
    base = style['background_colour']
    kind = style['background']
    if kind == 'solid':
        return np.broadcast_to(base, (h, w, 3)).astype(np.float32)
    if kind == 'gradient':
        other = style.get('gradient_end')
        if other is None:
            other = random_colour(rng, lightness=base.mean() / 255)
        ramp = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
        ramp = ramp[None, :, None] if len(ramp) == w else ramp[:, None, None]
        return base + (other - base) * np.broadcast_to(ramp, (h, w, 1))
    if kind == 'texture':  # smooth blotches: random colours at a coarse grid, resized
        cells = rng.normal(0, style['texture_strength'],
                           (rng.integers(2, 7), rng.integers(3, 12), 3)).astype(np.float32)
        return np.clip(base + cv2.resize(cells, (w, h), interpolation=cv2.INTER_CUBIC), 0, 255)
    if kind == 'noise':  # fine mottling, specks about as wide as a stroke: busy paper
        cell = int(rng.integers(2, 9))
        cells = rng.normal(0, style['texture_strength'],
                           (h // cell + 1, w // cell + 1, 1)).astype(np.float32)
        resize = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
        return np.clip(base + cv2.resize(cells, (w, h), interpolation=resize)[:, :, None],
                       0, 255)
    return HELD_OUT_BACKGROUNDS[kind](rng, style, base)


def text_colours(rng, style, owner, text_length):
    """(h, w, 3) colour of the text at every pixel: one colour, one per character, or a
    gradient across the canvas."""
    h, w = owner.shape
    base = style['background_colour']
    kind = style['fill']
    if kind == 'per_character':
        palette = np.stack([contrasting(rng, base) for _ in range(text_length)])
        return palette[owner]
    first = contrasting(rng, base)
    if kind == 'gradient':
        second = contrasting(rng, base)
        ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        return first + (second - first) * np.broadcast_to(ramp, (h, w, 1))
    return np.broadcast_to(first, (h, w, 3))


def outline(coverage, style):
    """Hollow glyphs (the outline only) or glyphs with a border of their own colour."""
    if style['outline'] == 'none':
        return coverage, None
    thickness = style['outline_px']
    kernel = np.ones((2 * thickness + 1,) * 2, np.uint8)
    solid = (coverage > 0.4).astype(np.uint8)
    edge = (cv2.dilate(solid, kernel) - cv2.erode(solid, kernel)).astype(np.float32)
    if style['outline'] == 'hollow':
        return edge, None
    return coverage, edge


def lines(image, rng, style, colour, count):
    """Straight lines or curves across the canvas, of the style's thickness."""
    h, w = image.shape[:2]
    for _ in range(count):
        thickness = int(rng.integers(1, style['line_px'] + 1))
        line_colour = (colour if rng.random() < 0.6 else random_colour(rng)).tolist()
        if rng.random() < 0.5:
            points = np.stack([np.linspace(0, w, 12), h * rng.uniform(0.2, 0.8) + h
                               * rng.uniform(0.05, 0.3) * np.sin(np.linspace(
                                   0, rng.uniform(1, 8), 12) + rng.uniform(0, 6))], axis=1)
        else:
            points = np.array([[rng.uniform(0, w / 3), rng.uniform(0, h)],
                               [rng.uniform(2 * w / 3, w), rng.uniform(0, h)]])
        cv2.polylines(image, [points.astype(np.int32)], False, line_colour, thickness,
                      cv2.LINE_AA)


def shapes(image, rng, style):
    """Rings and filled blobs anywhere on the canvas, drawn under the text: over it, a blob
    would hide characters the label still names."""
    h, w = image.shape[:2]
    for _ in range(style['rings']):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        radius = int(rng.integers(3, max(4, h // 3)))
        filled = -1 if rng.random() < style['filled_rings'] else 1
        cv2.circle(image, centre, radius, random_colour(rng).tolist(), filled, cv2.LINE_AA)


def dots(image, rng, style):
    """Small dots anywhere on the canvas, over the text."""
    h, w = image.shape[:2]
    for _ in range(style['dots']):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        radius = int(rng.integers(1, 3))
        cv2.circle(image, centre, radius, random_colour(rng).tolist(), -1)


def frame(image, style):
    """A frame of the style's colour round the canvas (`frame_px` thick), or bands across
    its top and bottom (`band_share` of its height each), as letterboxed pictures have;
    drawn over everything, so a band may hide the tops of the glyphs, as a wide frame may."""
    if style.get('frame_px'):
        width = style['frame_px']
        image[:width] = image[-width:] = style['frame_colour']
        image[:, :width] = image[:, -width:] = style['frame_colour']
    if style.get('band_share'):
        band = max(1, int(image.shape[0] * style['band_share']))
        image[:band] = image[-band:] = style['frame_colour']


def finish(image, rng, style):
    """Grain, blur and JPEG artefacts -> BGR uint8."""
    if style['grain']:
        image = image + rng.normal(0, style['grain'], image.shape).astype(np.float32)
    if style['blur']:
        image = cv2.GaussianBlur(image, (0, 0), style['blur'])
    bgr = np.clip(image[:, :, ::-1], 0, 255).astype(np.uint8)
    if style['jpeg']:
        encoded = cv2.imencode('.jpg', bgr, [cv2.IMWRITE_JPEG_QUALITY, style['jpeg']])[1]
        bgr = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return bgr


def draw(glyphs, text, rng, style):
    """`text` in `style` -> a BGR uint8 captcha."""
    coverage, owner = place(*layout(glyphs, text, rng, style), rng, style)
    if style.get('wave'):
        coverage, owner = wave(coverage, owner, style['wave'])
    if style.get('halftone'):
        coverage = halftone(coverage, style['halftone'])
    if style.get('hatch'):
        coverage = hatch(coverage, style['hatch'])
    image = np.ascontiguousarray(background(rng, style), dtype=np.float32)  # lines draw on it
    base = style['background_colour']
    ink = text_colours(rng, style, owner, len(text))
    mid_ink = ink[owner.shape[0] // 2, owner.shape[1] // 2]  # lines mostly take the text's colour
    shapes(image, rng, style)
    lines(image, rng, style, mid_ink, style['lines_under'])
    fill, border = outline(coverage, style)
    if style.get('shadow'):
        shadow = np.roll(fill, style['shadow'], axis=(0, 1))[:, :, None]
        image = image * (1 - shadow * 0.7) + (base * 0.3)[None, None] * shadow * 0.7
    if border is not None:
        edge_colour = contrasting(rng, base)
        image = image * (1 - border[:, :, None]) + edge_colour * border[:, :, None]
    alpha = fill[:, :, None] * style['opacity']
    image = np.ascontiguousarray(image * (1 - alpha) + ink * alpha, dtype=np.float32)
    lines(image, rng, style, mid_ink, style['lines_over'])
    dots(image, rng, style)
    frame(image, style)
    return finish(image, rng, style)


def base_style(rng):
    """The knobs that training captchas and the held-out looks share, each drawn at
    random."""
    canvas_h = int(rng.choice([rng.integers(24, 60), rng.integers(60, 110),
                               rng.integers(110, 280)], p=[0.35, 0.5, 0.15]))
    aspect = rng.uniform(1.8, 5.0)
    margins = rng.random() < 0.35
    dark = rng.random() < 0.25
    return {
        'canvas': (canvas_h, int(canvas_h * aspect)),
        'text_height': rng.uniform(0.25, 0.6) if margins else rng.uniform(0.6, 0.95),
        'text_width': rng.uniform(0.3, 0.7) if margins else rng.uniform(0.7, 0.98),
        'stretch': rng.uniform(0.75, 1.3), 'shear': rng.uniform(-0.3, 0.3),
        'angle': rng.uniform(-8, 8), 'perspective': rng.uniform(0, 0.08),
        'position': rng.uniform(0, 1, 2), 'spacing': sorted(rng.uniform(-0.35, 0.35, 2)),
        'rotate': tuple(sorted(rng.choice([-30, -15, -5, 5, 15, 30], 2, replace=False))),
        'background': str(rng.choice(['solid', 'gradient', 'texture', 'noise'],
                                     p=[0.35, 0.25, 0.25, 0.15])),
        'background_colour': random_colour(rng, rng.uniform(0, 0.3) if dark
                                           else rng.uniform(0.6, 1.0)),
        'texture_strength': rng.uniform(10, 60),
        'fill': str(rng.choice(['solid', 'per_character', 'gradient'], p=[0.55, 0.3, 0.15])),
        'opacity': rng.uniform(0.7, 1.0),
        'outline': str(rng.choice(['none', 'border', 'hollow'], p=[0.8, 0.1, 0.1])),
        'outline_px': int(rng.integers(1, 3)),
        'lines_under': int(rng.choice([0, 1, 2], p=[0.6, 0.25, 0.15])),
        'lines_over': int(rng.choice([0, 1, 2, 3], p=[0.4, 0.3, 0.2, 0.1])),
        'line_px': int(rng.integers(1, 4)),
        'dots': int(rng.choice([0, rng.integers(5, 80)], p=[0.5, 0.5])),
        'rings': int(rng.choice([0, rng.integers(1, 6)], p=[0.7, 0.3])),
        'filled_rings': rng.uniform(0, 0.5),
        'grain': float(rng.choice([0, rng.uniform(3, 25)], p=[0.5, 0.5])),
        'blur': float(rng.choice([0, rng.uniform(0.3, 1.2)], p=[0.6, 0.4])),
        'jpeg': int(rng.choice([0, rng.integers(15, 90)], p=[0.6, 0.4])),
    }


def training_style(rng):
    """The knobs of one training captcha: base_style's, widened by what the public
    generators of docs/generator-survey.md draw and base_style does not (turns up to 55
    degrees, a size and baseline per glyph, text running off the canvas, frames and bands,
    dark-to-light backgrounds), each in a share of the captchas."""
    knobs = base_style(rng)
    canvas_h, canvas_w = knobs['canvas']
    if canvas_h > MAX_DRAWN_HEIGHT:  # the view is 60 rows: most of a taller canvas is lost
        knobs['canvas'] = (MAX_DRAWN_HEIGHT, canvas_w * MAX_DRAWN_HEIGHT // canvas_h)
    if rng.random() < 0.25:
        knobs['rotate'] = tuple(sorted(rng.choice([-55, -45, -30, 30, 45, 55], 2,
                                                  replace=False)))
    if rng.random() < 0.35:
        knobs['glyph_scale'] = (rng.uniform(0.55, 0.9), rng.uniform(1.0, 1.2))
        knobs['baseline'] = rng.uniform(0.1, 0.7)
    if rng.random() < 0.12:
        knobs.update(crossing=True, text_height=rng.uniform(1.0, 1.25),
                     text_width=rng.uniform(0.85, 1.02))
    if knobs['background'] == 'gradient' and rng.random() < 0.5:
        lightness = knobs['background_colour'].mean() / 255
        away = rng.uniform(0.15, 0.4) * (-1 if lightness > 0.5 else 1)
        knobs['gradient_end'] = random_colour(rng, float(np.clip(lightness + away, 0, 1)))
    edge = rng.random()
    if edge < 0.2:
        knobs['frame_colour'] = frame_colour(rng)
        if edge < 0.16:
            knobs['frame_px'] = int(rng.integers(1, 5))
        else:
            knobs['band_share'] = rng.uniform(0.05, 0.2)
    return knobs


def frame_colour(rng):
    """Black, a grey or any colour, as frames and bands are drawn."""
    kind = rng.random()
    if kind < 0.4:
        return np.zeros(3, np.float32)
    if kind < 0.7:
        return np.full(3, rng.uniform(40, 200), np.float32)
    return random_colour(rng)


def wave(coverage, owner, amplitude_period):
    """Rows shifted along a sine wave (a held-out effect)."""
    amplitude, period = amplitude_period
    h, w = coverage.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    ys = ys + amplitude * np.sin(2 * np.pi * xs / period)
    return (cv2.remap(coverage, xs, ys, cv2.INTER_LINEAR),
            cv2.remap(owner.astype(np.float32), xs, ys, cv2.INTER_NEAREST).astype(np.int32))


def halftone(coverage, pitch):
    """Glyphs printed as a screen of square dots `pitch` pixels apart, each a little over
    half the pitch wide (a held-out effect)."""
    h, w = coverage.shape
    dot = (pitch + 1) // 2
    on = (np.arange(h) % pitch < dot)[:, None] & (np.arange(w) % pitch < dot)[None, :]
    return coverage * on


def hatch(coverage, period_angle):
    """Glyphs filled with parallel lines `period` pixels apart, each about half that thick,
    at `angle` degrees from the horizontal (a held-out effect)."""
    period, angle = period_angle
    h, w = coverage.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    across = ys * np.cos(np.radians(angle)) - xs * np.sin(np.radians(angle))
    return coverage * (np.mod(across, period) < period / 2)


def checker(rng, style, base):
    h, w = style['canvas']
    cell = max(3, h // 6)
    ys, xs = np.mgrid[0:h, 0:w]
    squares = ((ys // cell + xs // cell) % 2).astype(np.float32)[:, :, None]
    return base + squares * np.float32(rng.choice([-1, 1]) * 45)


def stripes(rng, style, base):
    h, w = style['canvas']
    ys, xs = np.mgrid[0:h, 0:w]
    band = (((xs + ys) // max(2, h // 10)) % 2).astype(np.float32)[:, :, None]
    return np.clip(base - band * 40, 0, 255)


def grid(rng, style, base):
    image = np.broadcast_to(base, style['canvas'] + (3,)).copy()
    h, w = style['canvas']
    step = max(4, h // 5)
    colour = np.clip(base - 70, 0, 255)
    image[::step], image[:, ::step] = colour, colour
    return image


HELD_OUT_BACKGROUNDS = {'checker': checker, 'stripes': stripes, 'grid': grid}


def held_out_style(name, rng):
    """The knobs of one captcha of held-out style `name`: a fixed look around an effect
    training never draws."""
    calm = dict(base_style(rng), angle=rng.uniform(-3, 3), perspective=0.02, shear=0.0,
                stretch=1.0, outline='none', lines_under=0, lines_over=0, dots=0, rings=0,
                grain=0.0, blur=0.0, jpeg=0, opacity=1.0, spacing=(-0.1, 0.1),
                rotate=(-15, 15), text_height=0.8, text_width=0.9,
                position=rng.uniform(0.3, 0.7, 2))
    looks = {
        'wave': dict(canvas=(60, 180), wave=(rng.uniform(3, 5), rng.uniform(40, 80)),
                     background='checker', fill='solid', lines_over=1, line_px=2,
                     background_colour=random_colour(rng, rng.uniform(0.7, 0.9))),
        'shadow': dict(canvas=(50, 200), shadow=(2, 3), background='stripes',
                       fill='per_character', background_colour=random_colour(rng, 0.85)),
        'grid': dict(canvas=(70, 200), background='grid', fill='solid', grain=12.0,
                     lines_under=1, lines_over=1, line_px=1, rotate=(-5, 5),
                     background_colour=np.float32([235, 232, 220])),
        'poster': dict(canvas=(270, 480), text_height=0.3, text_width=0.45,
                       wave=(rng.uniform(2, 4), rng.uniform(60, 120)), fill='per_character',
                       outline='border', rings=5, filled_rings=0.6, lines_over=2, line_px=3,
                       background_colour=random_colour(rng, rng.uniform(0.5, 0.9))),
    }
    # Every look above draws its knobs whichever is asked for. A look added later draws its
    # own only when asked for, after theirs: the older looks' captchas stay the ones their
    # test sets were drawn and measured with (a seed gives the same images as before).
    later_looks = {
        'dotted': lambda: dict(canvas=(60, 180), halftone=int(rng.integers(4, 6)),
                               fill='solid', grain=6.0,
                               background_colour=random_colour(rng, rng.uniform(0.8, 0.95))),
        'hatched': lambda: dict(canvas=(64, 200), hatch=(int(rng.integers(3, 6)),
                                                        float(rng.choice([0, 45, -45, 90]))),
                                background='gradient', fill='per_character', lines_over=1,
                                line_px=1,
                                background_colour=random_colour(rng, rng.uniform(0.75, 0.95))),
    }
    if name in later_looks:
        looks[name] = later_looks[name]()
    return dict(calm, **looks[name])


HELD_OUT = ('wave', 'shadow', 'grid', 'poster', 'dotted', 'hatched')

STYLES = ('plain', 'robust') + HELD_OUT


def to_bgr(pil_image):
    """A PIL RGB image -> BGR uint8, as OpenCV decodes image files."""
    return cv2.cvtColor(np.asarray(pil_image), cv2.COLOR_RGB2BGR)


class Drawer:
    """Draws captchas of one style with `fonts`: 'plain' (the captcha package's own
    images, 160x60), 'robust' (the training mix: a quarter plain, the rest through the
    style layer) or a held-out style."""

    def __init__(self, fonts, style='plain'):
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}: use one of {', '.join(STYLES)}")
        self.style = style
        self.plain = MeasuringOnceCaptcha(width=CAPTCHA_WIDTH, height=CAPTCHA_HEIGHT,
                                          fonts=fonts)
        self.glyphs = Glyphs(fonts, GLYPH_REUSE if style == 'robust' else 0.0)

    def draw(self, text, rng, plain=False):
        """`text` as a captcha, BGR uint8; `rng` (numpy Generator) draws the style's knobs.
        `plain` draws it as the 'plain' style would, whatever the style."""
        if (plain or self.style == 'plain'
                or (self.style == 'robust' and rng.random() < PLAIN_SHARE)):
            return to_bgr(self.plain.generate_image(text))
        knobs = (training_style(rng) if self.style == 'robust'
                 else held_out_style(self.style, rng))
        return draw(self.glyphs, text, rng, knobs)

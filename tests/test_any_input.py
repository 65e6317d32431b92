"""The shipped model reads captchas whatever is drawn round their text: the same captchas
with a frame of any width and colour, on a dark-to-light background, inverted, and on small
and large canvases read within a few points of the plain ones (the 'ink' conversion's frame
cut and plane background)."""

import cv2
import numpy as np
import pytest

from conftest import draw_captchas
from reader.onnx_reader import ONNXModel
from reader.reading import read_views, score
from training.model_config import SHIPPED_ONNX

pytestmark = pytest.mark.slow

A_FEW_POINTS = 0.06


def framed(width, colour):
    return lambda bgr: cv2.copyMakeBorder(bgr, width, width, width, width,
                                          cv2.BORDER_CONSTANT, value=colour)


def darkening_to_the_left(bgr):
    shade = np.linspace(0.3, 1, bgr.shape[1], dtype=np.float32)[None, :, None]
    return (bgr * shade).round().astype(np.uint8)


VARIANTS = {
    'frame 1 px black': framed(1, (0, 0, 0)),
    'frame 2 px black': framed(2, (0, 0, 0)),
    'frame 4 px black': framed(4, (0, 0, 0)),
    'frame 2 px grey': framed(2, (128, 128, 128)),
    'frame 4 px blue': framed(4, (200, 60, 30)),
    'dark-to-light background': darkening_to_the_left,
    'inverted': lambda bgr: 255 - bgr,
    '70x30': lambda bgr: cv2.resize(bgr, (70, 30), interpolation=cv2.INTER_AREA),
    '400x120': lambda bgr: cv2.resize(bgr, (400, 120), interpolation=cv2.INTER_CUBIC),
}


@pytest.fixture(scope='module')
def captchas(tmp_path_factory, font):
    """(texts, BGR images) of 150 plain captchas."""
    paths = draw_captchas(tmp_path_factory.mktemp('plain'), font, 150, seed=5)
    return [p.name.split('_')[0] for p in paths], [cv2.imread(str(p)) for p in paths]


@pytest.fixture(scope='module')
def model():
    return ONNXModel(SHIPPED_ONNX)


def accuracy(model, texts, images):
    conversion = model.config.conversion
    views = np.stack([conversion.view(image) for image in images])
    readings = read_views(model, views, images=images)
    return score(texts, [r.text for r in readings])[0]


@pytest.mark.parametrize('variant', VARIANTS)
def test_the_shipped_model_reads_it_as_it_reads_the_plain_captcha(captchas, model, variant):
    texts, images = captchas
    plain = accuracy(model, texts, images)
    assert plain > 0.9
    changed = accuracy(model, texts, [VARIANTS[variant](image) for image in images])
    assert changed >= plain - A_FEW_POINTS, (variant, changed, plain)

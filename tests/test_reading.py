"""Reading through more views (reading.read_views): which reading is kept, and that an image
whose first reading is sure is not read again."""

import numpy as np
import pytest

from common.image_conversion import read_image, soften, thin
from conftest import run_script
from reader.onnx_reader import ONNXModel
from reader.reading import (
    OTHER_VIEW_ODDS,
    Reading,
    best_other_reading,
    read_batches,
    read_files,
    read_views,
)
from training.model_config import SHIPPED_ONNX

pytestmark = pytest.mark.slow


class CountingModel:
    """The shipped ONNX model, counting the views it computes."""

    def __init__(self):
        self.model = ONNXModel(SHIPPED_ONNX, batch_size=64)
        self.config, self.batch_size = self.model.config, self.model.batch_size
        self.views_read = 0

    def probabilities(self, inputs):
        self.views_read += len(inputs)
        return self.model.probabilities(inputs)


@pytest.fixture(scope='module')
def captchas(tmp_path_factory, unseen_fonts):
    """(BGR images, their first views as the shipped model reads them) of plain captchas
    (which it reads surely) and of two looks it is often unsure of, one on a large canvas."""
    folder = tmp_path_factory.mktemp('looks')
    for style in ('plain', 'poster', 'dotted'):
        result = run_script('captcha_generator.py', unseen_fonts, '--style',
                            style, '--count', 8, '--out', folder / style, '--seed', 7)
        assert result.returncode == 0, result.stderr
    paths = sorted(str(p) for p in folder.glob('*/*'))
    config = ONNXModel(SHIPPED_ONNX).config
    hp = config.hp
    assert hp.soft_view and hp.thin_view and hp.window_views
    _, views, errors = read_files(paths, config.conversion)
    assert not errors and views.shape == (24, 60, 160)
    return [read_image(path) for path in paths], views


def test_the_surest_other_reading_replaces_one_it_beats_by_the_odds(captchas):
    images, views = captchas
    model = CountingModel()
    readings = read_views(model, views, images=images)
    config, sigma = model.config, model.config.hp.soft_view
    firsts = read_batches(model.model, views, 0)
    expected, views_read = [], len(views)
    for first, view, image in zip(firsts, views, images):
        if first.confidence * OTHER_VIEW_ODDS >= 1:  # sure: not read again
            expected.append(first)
            continue
        wholes = [soften(view[None], sigma)[0], thin(view[None])[0]]
        windows = config.conversion.window_views(image)
        views_read += len(wholes) + len(windows)
        window_readings = read_batches(model.model, windows, 0) if len(windows) else []
        expected.append(best_other_reading(first, read_batches(model.model, np.stack(wholes), 0),
                                           window_readings))
    assert [r.text for r in readings] == [r.text for r in expected]
    np.testing.assert_allclose([r.confidence for r in readings],
                               [r.confidence for r in expected], rtol=1e-4)
    assert any(r.text != own.text for r, own in zip(readings, firsts))  # some replaced
    # only the images read less surely than 1 / odds were read again, through every view
    unsure = sum(r.confidence * OTHER_VIEW_ODDS < 1 for r in firsts)
    assert 0 < unsure < len(views)
    assert model.views_read == views_read


def test_a_window_reading_fewer_characters_or_none_never_replaces_the_first():
    """A window that cuts the text, or misses it, is often sure of what it holds."""
    first = Reading('0172', 0.1)
    cut, empty, whole = Reading('017', 0.9), Reading('', 0.99), Reading('0173', 0.3)
    assert best_other_reading(first, [], [cut, empty]) == first
    assert best_other_reading(first, [], [cut, empty, whole]) == whole
    # the whole image's other views (blurred, text part) may read fewer
    assert best_other_reading(first, [cut], [whole]) == cut
    assert best_other_reading(first, [], [Reading('01725', 0.15)]) == first  # not 2x as sure


def test_a_window_reading_that_holds_the_surest_text_and_more_replaces_it():
    """A window that cuts the text off reads part of it more surely than one that holds it."""
    first = Reading('82', 0.05)
    cut, whole = Reading('182', 0.8), Reading('6182', 0.4)
    assert best_other_reading(first, [], [cut, whole]) == whole
    assert best_other_reading(first, [cut], [whole]) == whole  # from a whole view's reading too
    assert best_other_reading(first, [], [cut, Reading('6182', 0.39)]) == cut  # under half as sure
    assert best_other_reading(first, [], [cut, Reading('6812', 0.7)]) == cut  # not 1, 8, 2 in order
    # made fuller again and again, each step against the reading it replaces
    fuller = Reading('61823', 0.2)
    assert best_other_reading(first, [], [cut, whole, fuller]) == fuller
    assert best_other_reading(first, [], [cut, whole, Reading('61823', 0.19)]) == whole
    # and kept only if OTHER_VIEW_ODDS times as sure as the first reading, once made fuller
    first = Reading('82', 0.3)
    assert best_other_reading(first, [], [cut, whole]) == first


def test_one_view_reads_each_image_once(captchas):
    images, views = captchas
    model = CountingModel()
    readings = read_views(model, views, one_view=True, images=images)
    assert model.views_read == len(views)
    assert readings == read_batches(model.model, views, 0)


class LoggedImages:
    """The BGR images, logging each one read_views asks for into a shared log."""

    def __init__(self, images, log):
        self.images, self.log = images, log

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        self.log.append('image')
        return self.images[index]


class LoggedModel(CountingModel):
    """The shipped ONNX model in batches of 4, logging each call into a shared log."""

    def __init__(self, log):
        super().__init__()
        self.model, self.batch_size, self.log = ONNXModel(SHIPPED_ONNX, batch_size=4), 4, log

    def probabilities(self, inputs):
        self.log.append('read')
        return super().probabilities(inputs)


def test_unsure_images_are_read_again_a_batch_of_them_at_a_time(captchas):
    """A large image has up to 32 other views: read_views builds those of at most
    batch_size images before reading them, and reads as it would all at once."""
    images, views = captchas
    log = []
    readings = read_views(LoggedModel(log), views, images=LoggedImages(images, log))
    runs = ''.join('i' if entry == 'image' else 'r' for entry in log).split('r')
    unsure = sum(r.confidence * OTHER_VIEW_ODDS < 1 for r in read_batches(CountingModel().model,
                                                                      views, 0))
    assert unsure > 4 and sum(map(len, runs)) == unsure
    assert max(map(len, runs)) == 4
    at_once = read_views(CountingModel(), views, images=images)
    assert [r.text for r in readings] == [r.text for r in at_once]
    np.testing.assert_allclose([r.confidence for r in readings],
                               [r.confidence for r in at_once], rtol=1e-4)

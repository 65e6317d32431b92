"""Reading through more views (reading.read_views): which reading is kept, and that an image
whose first reading is sure is not read again."""
import os

import numpy as np
import pytest

from conftest import REPO, run_script
from image_conversion import soften
from model_config import SHIPPED_ONNX
from onnx_reader import ONNXModel
from reading import OTHER_VIEW_ODDS, read_batches, read_files, read_views


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
def views(tmp_path_factory):
    """Each image's views, as the shipped model reads them, of plain captchas (which it reads
    surely) and of two looks it is often unsure of."""
    folder = tmp_path_factory.mktemp('looks')
    for style in ('plain', 'poster', 'dotted'):
        result = run_script('captcha_generator.py', os.path.join(REPO, 'unseen'), '--style',
                            style, '--count', 8, '--out', folder / style, '--seed', 7)
        assert result.returncode == 0, result.stderr
    paths = sorted(str(p) for p in folder.glob('*/*'))
    config = ONNXModel(SHIPPED_ONNX).config
    assert config.hp.crop_view and config.hp.soft_view
    _, views, errors = read_files(paths, config.conversion, with_text_part=True)
    assert not errors and views.shape == (24, 2, 60, 160)
    return views


def test_the_surest_other_reading_replaces_one_it_beats_by_the_odds(views):
    model = CountingModel()
    readings = read_views(model, views)
    first = views[:, 0]
    sigma = model.config.hp.soft_view
    every = [read_batches(model.model, each, 0) for each in (first, views[:, 1],
                                                              soften(first, sigma))]
    expected = []
    for own, *others in zip(*every):
        best = max(others, key=lambda r: r.confidence)
        expected.append(best if best.confidence > OTHER_VIEW_ODDS * own.confidence else own)
    assert [r.text for r in readings] == [r.text for r in expected]
    np.testing.assert_allclose([r.confidence for r in readings],
                               [r.confidence for r in expected], rtol=1e-4)
    assert any(r.text != own.text for r, own in zip(readings, every[0]))  # some replaced
    # only the images read less surely than 1 / odds were read again, through both views
    unsure = sum(r.confidence * OTHER_VIEW_ODDS < 1 for r in every[0])
    assert 0 < unsure < len(views)
    assert model.views_read == len(views) + 2 * unsure


def test_one_view_reads_each_image_once(views):
    model = CountingModel()
    readings = read_views(model, views, one_view=True)
    assert model.views_read == len(views)
    assert readings == read_batches(model.model, views[:, 0], 0)

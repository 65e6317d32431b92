"""tools/reading_rules.py applies each rule to readings made once: its rows for the model's
own rule and for one view must be what reading the folder that way gives."""
import cv2
import numpy as np
import pytest

from conftest import assert_one_line_error, run_script
from reader.onnx_reader import ONNXModel
from reader.reading import read_views, score
from training.model_config import SHIPPED_ONNX

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def shadow_folder(tmp_path_factory, font):
    """60 captchas of a held-out look, many of which the shipped model reads again."""
    folder = tmp_path_factory.mktemp('shadow')
    result = run_script('captcha_generator.py', font, '--style', 'shadow', '--count', 60,
                        '--out', folder, '--seed', 3)
    assert result.returncode == 0, result.stderr
    return folder


def rows(output):
    """The tool's table -> {variant: first folder's accuracy (%)}."""
    lines = output.strip().splitlines()[1:]
    return {line[:16].strip(): float(line[16:].split()[0]) for line in lines}


def test_the_tools_rows_match_reading_the_folder(shadow_folder):
    result = run_script('tools/reading_rules.py', '--onnx', SHIPPED_ONNX, shadow_folder)
    assert result.returncode == 0, result.stderr
    found = rows(result.stdout)
    model = ONNXModel(SHIPPED_ONNX)
    paths = sorted(shadow_folder.iterdir())
    texts = [p.name.split('_')[0] for p in paths]
    images = [cv2.imread(str(p)) for p in paths]
    views = np.stack([model.config.conversion.view(image) for image in images])
    for variant, one_view in (('every view', False), ('one view', True)):
        readings = read_views(model, views, one_view=one_view, images=images)
        expected = 100 * score(texts, [r.text for r in readings])[0]
        assert found[variant] == pytest.approx(expected, abs=0.01), variant
    assert len(found) >= 12 and found['every view'] != found['one view']


def test_a_missing_folder_is_a_one_line_error(tmp_path):
    result = run_script('tools/reading_rules.py', '--onnx', SHIPPED_ONNX, tmp_path / 'none')
    assert 'none' in assert_one_line_error(result)

"""ONNX export and the ONNX Runtime reader: same readings as MXNet, and no MXNet needed."""
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from common.image_conversion import network_input, read_image
from conftest import REPO, TINY, assert_one_line_error, run_script
from reader import onnx_export
from reader.mxnet_reader import MXNetModel
from reader.onnx_reader import ONNXModel
from reader.reading import other_views, read_files, read_views
from training import model_config
from training.model_config import SHIPPED_EPOCH, SHIPPED_ONNX, SHIPPED_PREFIX, ModelConfig

pytestmark = pytest.mark.slow

VARIANTS = {  # name: (training options, charset the captchas are drawn from)
    'unrolled': ([], None),
    'fused': (['--rnn', 'fused'], None),
    'strided': (['--conv_stride', 2], None),
    'ink_crop': (['--conversion', 'ink_crop'], None),
    'warpctc': (['--loss', 'warpctc'], None),
    'seed': (['--recipe', 'seed', '--num_hidden', 16, '--batch_size', 16,
              '--train_epoch_size', 64, '--eval_epoch_size', 32, '--num_proc', 1, '--seed', 3],
             None),
    'alphanumeric': (['--charset', '0-9A-Z', '--length', '4-6'], '0-9A-Z'),
}


@pytest.fixture(scope='module')
def captchas(tmp_path_factory, font):
    """40 drawn captchas of digits, and 40 of letters and digits: folder by charset."""
    folders = {}
    for charset in (None, '0-9A-Z'):
        folder = tmp_path_factory.mktemp('captchas')
        options = ['--charset', charset, '--length', '4-6'] if charset else []
        result = run_script('captcha_generator.py', font, *options, '--count', 40, '--out',
                            folder, '--seed', 8)
        assert result.returncode == 0, result.stderr
        folders[charset] = folder
    return folders


def assert_same_readings(mxnet_model, onnx_model, folder):
    """Both models read every image of `folder` alike: the same text, per-step
    probabilities within 1e-4."""
    assert onnx_model.config == mxnet_model.config
    paths = sorted(str(p) for p in folder.iterdir())
    config = onnx_model.config
    _, views, errors = read_files(paths, config.conversion)
    assert not errors and len(views) == len(paths)
    images = [read_image(path) for path in paths]
    # each image's view, and every other view its settings name (text part, windows, ...)
    others = [v for view, image in zip(views, images) for v in other_views(config, view, image)]
    for batch in [views, *(v for v in others if len(v))]:
        inputs = network_input(batch)
        np.testing.assert_allclose(onnx_model.probabilities(inputs),
                                   mxnet_model.probabilities(inputs), atol=1e-4, rtol=0)
    read_by_onnx = read_views(onnx_model, views, images=images)
    read_by_mxnet = read_views(mxnet_model, views, images=images)
    assert [r.text for r in read_by_onnx] == [r.text for r in read_by_mxnet]
    np.testing.assert_allclose([r.confidence for r in read_by_onnx],
                               [r.confidence for r in read_by_mxnet], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize('variant', sorted(VARIANTS))
def test_an_exported_checkpoint_reads_as_mxnet_does(variant, tmp_path, font, captchas):
    options, charset = VARIANTS[variant]
    prefix = tmp_path / variant
    settings = options if variant == 'seed' else [*TINY, *options]
    result = run_script('lstm_ocr_train.py', *settings, '--num_epoch', 1, '--prefix', prefix,
                        font)
    assert result.returncode == 0, result.stderr
    result = run_script('export_onnx.py', f"{prefix}-0001", tmp_path / 'model.onnx')
    assert result.returncode == 0, result.stderr
    model = onnx.load(str(tmp_path / 'model.onnx'))
    assert [value.name for value in model.graph.input] == ['data']  # weights are initializers
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    assert model.opset_import[0].version == onnx_export.OPSET
    assert_same_readings(MXNetModel(str(prefix), 1, batch_size=40),
                         ONNXModel(str(tmp_path / 'model.onnx')), captchas[charset])


def test_the_original_examples_checkpoint_exports(old_checkpoint, tmp_path, captchas):
    prefix, _ = old_checkpoint
    onnx_export.export(prefix, 100, str(tmp_path / 'old.onnx'))
    assert_same_readings(MXNetModel(prefix, 100, batch_size=40),
                         ONNXModel(str(tmp_path / 'old.onnx')), captchas[None])


def test_the_shipped_onnx_model_is_the_shipped_checkpoint(captchas, tmp_path, unseen_fonts):
    model = onnx.load(SHIPPED_ONNX)
    settings = {p.key: p.value for p in model.metadata_props}[onnx_export.ONNX_METADATA_KEY]
    assert ModelConfig.from_json(settings) == model_config.load(SHIPPED_PREFIX)
    mxnet_model = MXNetModel(SHIPPED_PREFIX, SHIPPED_EPOCH, batch_size=40)
    assert_same_readings(mxnet_model, ONNXModel(SHIPPED_ONNX), captchas[None])
    # large canvases, which it reads again through their text part and windows too
    result = run_script('captcha_generator.py', unseen_fonts, '--style',
                        'poster', '--count', 6, '--out', tmp_path / 'poster', '--seed', 7)
    assert result.returncode == 0, result.stderr
    assert_same_readings(mxnet_model, ONNXModel(SHIPPED_ONNX), tmp_path / 'poster')


@pytest.fixture(scope='module')
def no_mxnet(tmp_path_factory):
    """A PYTHONPATH on which importing mxnet (and the training-only packages) fails, as in an
    environment with only onnxruntime, numpy, OpenCV and Pillow (the decoding gate reads
    image headers with it) installed."""
    folder = tmp_path_factory.mktemp('blocked')
    for package in ('mxnet', 'captcha', 'onnx', 'tqdm', 'matplotlib'):
        (folder / package).mkdir()
        (folder / package / '__init__.py').write_text(
            f"raise ImportError('{package} is not installed here')\n")
    return {'PYTHONPATH': str(folder)}


def test_the_onnx_reader_never_imports_mxnet(no_mxnet, captchas, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', no_mxnet['PYTHONPATH'])
    image = sorted(captchas[None].iterdir())[0]
    result = run_script('lstm_ocr_infer.py', '--onnx', SHIPPED_ONNX, '--json', '--beam', 3,
                        image)
    assert result.returncode == 0, result.stderr
    reading = json.loads(result.stdout)
    assert reading['text'] == image.name.split('_')[0] and 0 < reading['confidence'] <= 1
    result = run_script('lstm_ocr_infer.py', '--onnx', SHIPPED_ONNX, '--eval', captchas[None])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('images: 40\nexact-match accuracy: ')
    result = run_script('lstm_ocr_infer.py', image)  # a checkpoint needs MXNet: it is blocked
    assert '--onnx' in assert_one_line_error(result)


def test_bad_onnx_files_are_one_line_errors(tmp_path, captchas):
    image = sorted(captchas[None].iterdir())[0]
    with open(SHIPPED_ONNX, 'rb') as f:
        (tmp_path / 'cut.onnx').write_bytes(f.read()[:5000])
    (tmp_path / 'text.onnx').write_text('not a model\n')
    graph = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'other',
                              [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), str(tmp_path / 'other.onnx'))
    for name, said in (('missing.onnx', 'not found'), ('cut.onnx', 'not a readable ONNX'),
                       ('text.onnx', 'not a readable ONNX'), ('other.onnx', 'not an LSTM-OCR')):
        result = run_script('lstm_ocr_infer.py', '--onnx', tmp_path / name, image)
        assert said in assert_one_line_error(result), name
    result = run_script('lstm_ocr_infer.py', '--onnx', SHIPPED_ONNX, '--epoch', 30, image)
    assert 'not both' in assert_one_line_error(result)


def test_export_errors_are_one_line_and_write_nothing(tmp_path, old_checkpoint):
    prefix, _ = old_checkpoint
    for args, said in (((f"{prefix}-0007", tmp_path / 'a.onnx'), 'not found'),
                       (('ocr', tmp_path / 'a.onnx'), 'not a checkpoint name'),
                       ((f"{prefix}-0100", tmp_path / 'no' / 'a.onnx'), 'does not exist')):
        assert said in assert_one_line_error(run_script('export_onnx.py', *args, cwd=REPO))
    assert not list(tmp_path.rglob('*'))

"""A training run's settings are resolved once from the real command-line parser: the kind of
run, every setting's value and where it came from, and the block the log shows."""
import dataclasses
import re

import pytest

import lstm_ocr_train
from captcha_generator import TextCaptcha, encoded
from common.alphabet import Alphabet, parse_charset
from hyperparameters import FINETUNE, NETWORK_FIELDS, RECIPES, VIEW_FIELDS
from training import model_config, settings
from training.data import plain_left
from training.model_config import ModelConfig


def resolve(*argv, rank=0, num_workers=1):
    return settings.resolve(lstm_ocr_train.parse_args([str(a) for a in argv]), rank,
                            num_workers)


def saved_checkpoint_settings(prefix, config):
    """PREFIX-config.json as training writes it: all that resolving reads of a checkpoint."""
    prefix.parent.mkdir(exist_ok=True)
    model_config.save(config, str(prefix))
    return str(prefix)


@pytest.fixture(scope='module')
def lower_case_folder(tmp_path_factory, font):
    """Twelve real captchas of five lower-case letters and digits, named after their text."""
    folder = tmp_path_factory.mktemp('mine')
    captcha = TextCaptcha([font], Alphabet(parse_charset('0-9a-z')), (5, 5), seed=4)
    for index, (data, text) in enumerate(encoded(captcha, 12)):
        (folder / f"{text}_{index}.png").write_bytes(data)
    return folder


def test_a_fresh_run_takes_the_recipe_the_command_line_and_the_data(tmp_path, font):
    run, data = resolve('--recipe', 'fast', '--num_hidden', 16, '--seed', 3, '--prefix',
                        tmp_path / 'ocr', font)
    assert run.kind == settings.FRESH and run.data_source.kind == 'drawn' and data.fonts == [font]
    assert run.begin_epoch == 0 and run.start_from is None and run.earlier is None
    assert run.config.hp == dataclasses.replace(RECIPES['fast'], num_hidden=16)
    assert run.sources['num_hidden'] == settings.COMMAND_LINE
    assert {run.sources[name] for name in ('batch_size', 'conversion', 'num_epoch')} == {
        'recipe fast'}
    assert (run.config.charset, run.sources['charset']) == ('0123456789', settings.DEFAULT)
    assert (run.config.num_label, run.sources['num_label']) == (4, settings.DATA)  # --length
    assert (run.config.loss, run.sources['loss']) == ('ctc', settings.DEFAULT)
    assert (run.seed, run.sources['seed']) == (3, settings.COMMAND_LINE)


def test_a_resumed_run_takes_the_checkpoints_settings_unless_given(tmp_path, font):
    trained = ModelConfig(dataclasses.replace(RECIPES['seed'], num_hidden=24), '0123456789abcdef',
                          6, 'warpctc')
    prefix = saved_checkpoint_settings(tmp_path / 'run' / 'ocr', trained)
    run, _ = resolve('--load_epoch', 3, '--num_epoch', 9, '--prefix', prefix, font)
    assert run.kind == settings.RESUME and run.begin_epoch == 3
    assert run.start_from == (prefix, 3) and run.earlier == trained
    assert run.config == dataclasses.replace(
        trained, hp=dataclasses.replace(trained.hp, num_epoch=9))
    assert run.sources['num_epoch'] == settings.COMMAND_LINE
    others = set(run.sources) - {'num_epoch', 'start_from', *run.run_options()}
    assert {run.sources[name] for name in others} == {settings.CHECKPOINT}
    with pytest.raises(ValueError, match='cannot resume'):
        resolve('--load_epoch', 3, '--charset', '0-9', '--prefix', prefix, font)


def test_a_fine_tuned_run_keeps_the_checkpoints_network_in_more_steps(tmp_path, font,
                                                                     lower_case_folder):
    twenty_steps = ModelConfig(RECIPES['fast'], '0123456789', 4, 'ctc')
    prefix = saved_checkpoint_settings(tmp_path / 'digits' / 'ocr', twenty_steps)
    run, data = resolve('--finetune', f"{prefix}-0030", '--charset', '0-9A-Z', '--num_hidden',
                        64, '--train_data', lower_case_folder, '--cache_dir', tmp_path / 'cache',
                        '--prefix', tmp_path / 'tuned' / 'ocr')
    assert run.kind == settings.FINETUNE_RUN and run.data_source.kind == 'labelled'
    assert run.start_from == (prefix, 30) and run.begin_epoch == 0 and len(data.train[1]) == 12
    sources = run.sources
    assert sources['num_hidden'] == settings.COMMAND_LINE and run.config.hp.num_hidden == 64
    assert (run.config.hp.column_pool, sources['column_pool']) == (2, settings.ADJUSTED)
    assert run.config.hp.num_steps == 40
    for name in set(NETWORK_FIELDS + VIEW_FIELDS) - {'num_hidden', 'column_pool'}:
        assert getattr(run.config.hp, name) == getattr(RECIPES['fast'], name)
        assert sources[name] == settings.CHECKPOINT, name
    for name, value in FINETUNE.items():
        assert (getattr(run.config.hp, name), sources[name]) == (value, settings.FINETUNING)
    assert sources['style'] == 'recipe fast'
    assert (run.config.num_label, sources['num_label']) == (5, settings.DATA)
    assert sources['charset'] == settings.COMMAND_LINE
    assert any(note.startswith("Replacing the checkpoint's network settings: num_hidden 100 "
                               "by 64") for note in run.notes)
    assert any('Reading in 40 LSTM steps where the checkpoint read in 20' in note
               for note in run.notes)
    assert any(note.startswith('Labels are folded to upper case') for note in run.notes)


def test_a_resumed_run_draws_only_the_plain_captchas_it_has_left():
    hp = dataclasses.replace(RECIPES['robust'], plain_first=20000, train_epoch_size=16000)
    assert [plain_left(hp, epochs_done) for epochs_done in (0, 1, 2)] == [20000, 4000, 0]


def test_fine_tuning_takes_fewer_passes_over_a_large_dataset_as_an_adjustment():
    hp = dataclasses.replace(RECIPES['fast'], **FINETUNE)
    assert settings.fewer_passes_if_large(hp, 3600) == (hp, [])  # 40 passes fit
    fewer, notes = settings.fewer_passes_if_large(hp, 7200)
    assert fewer == dataclasses.replace(hp, num_epoch=20)
    assert notes[0].startswith("Fine-tuning for 20 passes instead of 40: 144,000 samples")


def test_each_worker_counts_the_images_of_its_share(tmp_path, lower_case_folder):
    _, data = resolve('--train_data', lower_case_folder, '--cache_dir', tmp_path / 'cache',
                      '--prefix', tmp_path / 'ocr')
    assert data.holds_out()  # 12 images: 1 held out for validation, 11 to share
    assert data.images_per_worker(2000, 0, 1) == 11
    assert [data.images_per_worker(2000, rank, 2) for rank in (0, 1)] == [6, 5]


def test_the_logged_block_shows_every_setting_with_its_source(tmp_path, font):
    run, _ = resolve('--num_hidden', 16, '--prefix', tmp_path / 'ocr', font)
    block = run.table().splitlines()
    assert block[0].startswith(f"Settings of this fresh run (training on captchas drawn with "
                               f"{font}")
    rows = {line.split()[0]: line for line in block[1:]}
    assert set(rows) == set(run.sources)
    for name, line in rows.items():
        assert line.endswith(f"  {run.sources[name]}"), line
    assert re.fullmatch(r"  num_hidden +16 +command line", rows['num_hidden'])
    assert re.fullmatch(r"  batch_size +32 +recipe fast", rows['batch_size'])

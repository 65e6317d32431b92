"""The seed recipe is MXNet 1.9.1's example/ctc, value for value; fine-tuning keeps a
checkpoint's network."""
import dataclasses

from hyperparameters import (
    FINETUNE,
    FINETUNE_SAMPLES,
    FINETUNE_STEPS,
    NETWORK_FIELDS,
    RECIPES,
    VIEW_FIELDS,
    XAVIER,
    finetuning,
    finetuning_epochs,
)

# From MXNet 1.9.1 example/ctc: hyperparams.py (epoch sizes, batch, epochs, learning rate,
# momentum, num_label, seq_length, num_hidden, num_lstm_layer) and lstm_ocr_train.py
# (sgd, wd 0.00001, Xavier(factor_type="in", magnitude=2.34)); lstm.py: raw pixels, no
# convolution, one direction, an LSTM step per pixel column of an 80x30 image;
# captcha_generator.py: the captcha package's own captchas.
ORIGINAL = {
    'train_epoch_size': 30000, 'eval_epoch_size': 3000, 'batch_size': 128, 'num_epoch': 100,
    'optimizer': 'sgd', 'learning_rate': 0.01, 'lr_schedule': 'constant', 'momentum': 0.9,
    'wd': 0.00001, 'clip_gradient': 0.0, 'rnn': 'unrolled', 'num_hidden': 100,
    'num_lstm_layer': 2, 'bidirectional': False, 'normalize': False, 'conv_channels': (),
    'column_pool': 1, 'conv_stride': 1, 'conversion': 'plain', 'num_columns': 80,
    'column_height': 30, 'style': 'plain', 'plain_first': 0, 'soft_view': 0.0,
    'thin_view': False, 'window_views': False, 'augment': False,
}


def test_seed_recipe_holds_the_original_values_field_by_field():
    assert dataclasses.asdict(RECIPES['seed']) == ORIGINAL
    assert RECIPES['seed'].num_steps == 80


def test_every_recipe_initialises_as_the_original():
    assert XAVIER == {'factor_type': 'in', 'magnitude': 2.34}


def test_finetuning_keeps_the_network_in_at_least_forty_steps_and_trains_for_few_images():
    robust = RECIPES['robust']
    tuned = finetuning(RECIPES['fast'], robust)
    assert robust.num_steps == tuned.num_steps == FINETUNE_STEPS == 40
    for name in NETWORK_FIELDS:
        assert getattr(tuned, name) == getattr(robust, name), name
    assert {name: getattr(tuned, name) for name in FINETUNE} == FINETUNE
    assert tuned.style == RECIPES['fast'].style  # the recipe's, not the checkpoint's
    # it reads through the checkpoint's other views: robust's all, fast's none
    for name in VIEW_FIELDS:
        assert getattr(tuned, name) == getattr(robust, name) != getattr(RECIPES['fast'], name)
        assert getattr(finetuning(RECIPES['robust'], RECIPES['fast']), name) == getattr(
            RECIPES['fast'], name)
    # fewer steps are doubled until there are 40: pooling has no parameters
    assert finetuning(RECIPES['fast'], RECIPES['fast']).num_steps == 40
    ten_steps = dataclasses.replace(robust, column_pool=16, conv_stride=1)
    assert finetuning(RECIPES['fast'], ten_steps).column_pool == 4
    strided = dataclasses.replace(robust, column_pool=16)
    assert finetuning(RECIPES['fast'], strided).column_pool == 4  # still a multiple of 2
    # a network without column pooling (the original's) keeps its steps
    assert finetuning(RECIPES['fast'], RECIPES['seed']).num_steps == 80


def test_finetuning_takes_fewer_passes_over_a_large_dataset():
    assert FINETUNE['num_epoch'] == 40 and FINETUNE_SAMPLES == 144_000
    assert finetuning_epochs(450) == 40  # 500 images, a tenth held out
    assert finetuning_epochs(3600) == 40
    assert finetuning_epochs(7200) == 20  # 8,000 images: measured as good as 40 passes
    assert finetuning_epochs(100_000) == 1
    assert finetuning_epochs(1_000_000) == 1  # at least one pass


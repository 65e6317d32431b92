"""How fast a recipe's network trains apart from the drawing: forward, backward and update of
one batch of real captchas, repeated, as Module.fit runs them.

    python tools/network_speed.py --recipe robust
    python tools/network_speed.py --recipe robust --conv_channels 16,32 --rnn fused --threads 2

Any setting of lstm_ocr_train.py's recipes can be changed the same way. The machine's speed
varies between days: compare two networks only when run in turn in one sitting.
"""
import os
import sys
from dataclasses import replace

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, fail, positive_int
from hyperparameters import RECIPES
from lstm_ocr_train import add_hyperparameters, explicit_hyperparameters, read_recipe


def parse_args(argv=None):
    recipe_parser, recipe = read_recipe(argv)
    parser = Parser(description=__doc__.split('\n\n')[0], parents=[recipe_parser],
                    allow_abbrev=False)
    parser.add_argument('--threads', type=positive_int, default=1,
                        help="MXNet's threads (training on drawn captchas leaves it one)")
    parser.add_argument('--batches', type=positive_int, default=20,
                        help="batches timed, after 3 to warm up")
    add_hyperparameters(parser, recipe)
    args = parser.parse_args(argv)
    args.hp = replace(RECIPES[recipe], **explicit_hyperparameters(args))
    if args.hp.problem():
        parser.error(args.hp.problem())
    return args


def samples_per_s(hp, batches):
    """The median rate of `batches` training steps on one batch drawn in the recipe's look."""
    import lstm
    from captcha_generator import TextCaptcha
    from common.fonts import TRAINING_FONTS
    from tools import bench  # imports MXNet: only once main has set its threads
    from training.model_config import ModelConfig
    config = ModelConfig(hp)
    init_states = lstm.config_init_states(config, hp.batch_size)
    module = bench.training_module(lstm.config_network(config, 'ctc'), init_states,
                                   hp.batch_size, config.conversion, config.num_label,
                                   hp.optimizer, hp.learning_rate)
    drawer = TextCaptcha(TRAINING_FONTS, conversion=config.conversion, seed=0, style=hp.style)
    batch = bench.captcha_batch(drawer, hp.batch_size, init_states)
    seconds = bench.median_seconds(lambda: bench.train_step(module, batch), batches, warmup=3)
    return hp.batch_size / seconds


def main():
    args = parse_args()
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # before MXNet is imported
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    try:
        rate = samples_per_s(args.hp, args.batches)
    except ValueError as err:  # a network its settings cannot build
        fail(err)
    print(f"{rate:.1f} samples/s (recipe {args.recipe}, {args.threads} thread(s), batch "
          f"{args.hp.batch_size})")


if __name__ == '__main__':
    main()

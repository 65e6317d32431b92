"""How fast a recipe's network trains apart from the drawing: forward, backward and update of
one batch of real captchas, repeated, as Module.fit runs them.

    python tools/network_speed.py --recipe robust
    python tools/network_speed.py --recipe robust --conv_channels 16,32 --rnn fused --threads 2

Any setting of lstm_ocr_train.py's recipes can be changed the same way. The machine's speed
varies between days: compare two networks only when run in turn in one sitting.
"""
import os
import sys
import time
from dataclasses import fields, replace

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, fail, positive_int
from hyperparameters import RECIPES, Hyperparams
from lstm_ocr_train import add_hyperparameters


def parse_args(argv=None):
    recipe_parser = Parser(add_help=False, allow_abbrev=False)
    recipe_parser.add_argument('--recipe', choices=sorted(RECIPES), default='fast',
                               help="the settings to start from")
    recipe = recipe_parser.parse_known_args(argv)[0].recipe
    parser = Parser(description=__doc__.split('\n\n')[0], parents=[recipe_parser],
                    allow_abbrev=False)
    parser.add_argument('--threads', type=positive_int, default=1,
                        help="MXNet's threads (training on drawn captchas leaves it one)")
    parser.add_argument('--batches', type=positive_int, default=20,
                        help="batches timed, after 3 to warm up")
    add_hyperparameters(parser, recipe)
    args = parser.parse_args(argv)
    args.hp = replace(RECIPES[recipe], **{f.name: getattr(args, f.name)
                                          for f in fields(Hyperparams) if hasattr(args, f.name)})
    if args.hp.problem():
        parser.error(args.hp.problem())
    return args


def training_module(config, batch_size):
    import mxnet as mx

    import lstm
    init_states = lstm.config_init_states(config, batch_size)
    module = mx.mod.Module(lstm.config_network(config, 'ctc'),
                           data_names=['data'] + [name for name, _ in init_states],
                           label_names=['label'])
    conversion = config.conversion
    module.bind([('data', (batch_size, conversion.width, conversion.height))] + init_states,
                [('label', (batch_size, config.num_label))])
    module.init_params(mx.init.Xavier(factor_type='in', magnitude=2.34))
    module.init_optimizer(optimizer=config.hp.optimizer,
                          optimizer_params={'learning_rate': config.hp.learning_rate})
    return module, init_states


def one_batch(config, init_states, batch_size):
    """A batch of captchas drawn in the recipe's look and converted to its view."""
    import mxnet as mx

    from captcha_generator import TextCaptcha
    from common.fonts import TRAINING_FONTS
    from common.image_conversion import network_input
    drawer = TextCaptcha(TRAINING_FONTS, conversion=config.conversion, seed=0,
                         style=config.hp.style)
    views, labels = drawer.get_batch(batch_size)
    return mx.io.DataBatch([mx.nd.array(network_input(views))]
                           + [mx.nd.zeros(shape) for _, shape in init_states],
                           [mx.nd.array(labels)])


def samples_per_s(hp, batches):
    from training.model_config import ModelConfig
    config = ModelConfig(hp)
    module, init_states = training_module(config, hp.batch_size)
    batch = one_batch(config, init_states, hp.batch_size)
    for step in range(3 + batches):
        if step == 3:
            start = time.perf_counter()
        module.forward_backward(batch)
        module.update()
        module.get_outputs()[0].wait_to_read()
    return batches * hp.batch_size / (time.perf_counter() - start)


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

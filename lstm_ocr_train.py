"""Train the LSTM-OCR network with CTC loss, on captchas drawn while it trains or on your own
labelled images.

    python lstm_ocr_train.py font/                          # one CPU, ctc_loss
    python lstm_ocr_train.py --gpu 1 --num_proc 4 --loss warpctc font/Ubuntu-M.ttf
    python lstm_ocr_train.py --charset 0-9A-Z --length 4-6 font/
    python lstm_ocr_train.py --train_data my_captchas/ --finetune model/ocr-0030
    python lstm_ocr_train.py --train_data my_captchas/ --charset 0-9a-z --finetune model/alnum-0020

Worker processes draw fresh training captchas every epoch, or a labelled dataset (a folder
of images named after their text, a labels file, or a RecordIO file) is read into memory;
the validation set is fixed, so its accuracy is comparable across epochs and runs. After
every epoch the model is saved as PREFIX-symbol.json + PREFIX-NNNN.params with its settings
in PREFIX-config.json (whole files only: written to a temporary name and renamed), and a row
of figures is added to PREFIX-log.csv (plot it with tools/plot_log.py). training/settings.py
resolves the command line into the run's settings, logged in one block; training/fit.py
trains with them.
"""
import argparse
import dataclasses
import logging
import os
import sys
import time
import traceback

from common.alphabet import DIGITS
from common.cli import Parser, charset, fail, length_range, positive_int, use_every_core
from common.image_conversion import MAX_FILE_BYTES
from common.interrupts import Interrupted, Interrupts
from common.labelled_files import LONGEST_LABEL
from hyperparameters import RECIPES, Hyperparams
from multiproc_data import WorkerError

UNDER_LAUNCHER = 'DMLC_ROLE' in os.environ  # one process of a distributed job
REPO = os.path.dirname(os.path.abspath(__file__))


def add_data_options(parser):
    parser.add_argument('font_path', nargs='?',
                        help="a .ttf font file, or a folder of them, to draw captchas with "
                             "(not needed with both --train_data and --val_data)")
    parser.add_argument('--train_data', '--train_rec', metavar='PATH',
                        help="train on your labelled images instead of drawn captchas: a "
                             "folder of images named <text>_<anything>.png, a labels file "
                             "(path,text lines), or a RecordIO file; an epoch is one pass. "
                             f"Images over {MAX_FILE_BYTES >> 20} MB and labels over "
                             f"{LONGEST_LABEL} characters are refused")
    parser.add_argument('--val_data', '--val_rec', metavar='PATH',
                        help="validate on these labelled images (default: captchas drawn "
                             "with FONT_PATH, or else a tenth of --train_data held out)")
    parser.add_argument('--charset', type=charset,
                        help=f"the characters to read; ranges allowed, e.g. 0-9A-Z (default: "
                             f"the checkpoint's when resuming or fine-tuning, else {DIGITS})")
    parser.add_argument('--length', type=length_range, default=(3, 4), metavar='N or N-M',
                        help="characters per drawn captcha (default: 3-4)")
    parser.add_argument('--num_label', type=positive_int,
                        help="the longest label (default: the longest in the training data, "
                             "4 for the default 3-4 digit captchas)")
    parser.add_argument('--skip_bad', action='store_true',
                        help="leave out images of --train_data/--val_data that cannot be read "
                             "(not an image, too large, a broken link, a folder, no "
                             "permission), instead of stopping")
    parser.add_argument('--cache_dir', default=os.path.join(REPO, 'data', 'cache'),
                        help="where labelled folders are packed into RecordIO files")


def add_run_options(parser):
    parser.add_argument('--loss', choices=['ctc', 'warpctc'],
                        help="CTC head: MXNet's contrib.ctc_loss, or the WarpCTC head "
                             "(default: ctc, or the checkpoint's when resuming)")
    parser.add_argument('--cpu', type=positive_int, default=1,
                        help="number of CPU contexts (ignored with --gpu)")
    parser.add_argument('--gpu', type=positive_int, help="number of GPUs to train on")
    parser.add_argument('--kv_store', default='local',
                        choices=['local', 'device', 'dist_sync', 'dist_async', 'dist_device_sync'],
                        help="how gradients from several contexts or machines are combined; "
                             "dist_* run under launch_local.py or MXNet's tools/launch.py")
    parser.add_argument('--num_proc', type=positive_int, default=max(1, (os.cpu_count() or 2) - 1),
                        help="captcha-drawing worker processes")
    parser.add_argument('--prefix', default='ocr',
                        help="checkpoint prefix; a missing folder in it is created")
    parser.add_argument('--load_epoch', type=positive_int,
                        help="resume from checkpoint PREFIX-NNNN.params (and .states) of this "
                             "epoch, with its settings")
    parser.add_argument('--finetune', metavar='CHECKPOINT',
                        help="start from the parameters of checkpoint PREFIX-NNNN (e.g. "
                             "model/ocr-0030, digits, or model/alnum-0020, letters and "
                             "digits) that fit; its network settings (read in at "
                             "least 40 LSTM steps) and the other views it reads through, "
                             "and training settings for a few hundred images")
    parser.add_argument('--metric', choices=['acc', 'lcs'], default='acc',
                        help="training accuracy logged: exact match, or longest-common-"
                             "subsequence ratio (validation and PREFIX-log.csv report both)")
    parser.add_argument('--seed', type=int, help="random seed for a reproducible run")


def add_hyperparameters(parser, recipe):
    """One option per Hyperparams field, parsed as its metadata says; a value is set on
    the arguments only when given, so that the checkpoint's or the recipe's apply otherwise."""
    group = parser.add_argument_group(f"settings (defaults: recipe '{recipe}'; when resuming "
                                      "or fine-tuning, see --load_epoch and --finetune)")
    for setting in dataclasses.fields(Hyperparams):
        meta, default = setting.metadata, getattr(RECIPES[recipe], setting.name)
        shown = ','.join(map(str, default)) if isinstance(default, tuple) else default
        kind = ({'action': argparse.BooleanOptionalAction} if meta['type'] is bool
                else {'type': meta['type'], 'choices': meta['choices']})
        group.add_argument(f"--{setting.name}", default=argparse.SUPPRESS,
                           help=f"{meta['help']} (default: {shown})", **kind)


def read_recipe(argv=None):
    """The --recipe option, read before the others because the recipe sets their defaults
    shown in --help -> (its parser, to give the full parser as a parent; the recipe's name)."""
    recipe_parser = Parser(add_help=False, allow_abbrev=False)
    recipe_parser.add_argument('--recipe', choices=sorted(RECIPES), default='fast',
                               help="default settings: 'fast'; 'robust', for captchas of "
                                    "other generators; or the original example's 'seed'")
    return recipe_parser, recipe_parser.parse_known_args(argv)[0].recipe


def explicit_hyperparameters(args):
    """The hyperparameters given on the command line (the others' default is SUPPRESS)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(Hyperparams)
            if hasattr(args, f.name)}


def parse_args(argv=None):
    recipe_parser, recipe = read_recipe(argv)
    parser = Parser(description="Train the LSTM-OCR example with CTC loss on random captchas "
                                "or on labelled images.", parents=[recipe_parser],
                    allow_abbrev=False)
    add_data_options(parser)
    add_run_options(parser)
    add_hyperparameters(parser, recipe)
    args = parser.parse_args(argv)
    args.given = {name for name, value in vars(args).items()
                  if value != parser.get_default(name)}  # hyperparameters' default: SUPPRESS
    args.explicit = explicit_hyperparameters(args)
    if args.finetune is not None and args.load_epoch is not None:
        parser.error("give --finetune (a new run from a checkpoint) or --load_epoch (the same "
                     "run, resumed), not both")
    return args


def main(start):
    args = parse_args()
    if args.train_data is not None and not UNDER_LAUNCHER:
        use_every_core()  # no captcha worker needs a core
    from training import fit, settings  # only now: MXNet fixes its thread count on import
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    interrupts = Interrupts().install()
    try:
        kvstore = fit.create_kvstore(args.kv_store, UNDER_LAUNCHER)
        run, data = settings.resolve(args, *fit.workers(kvstore))
        fit.fit(run, data, kvstore, interrupts, start)
    except (ValueError, WorkerError) as err:
        fail(err)
    except Interrupted as why:
        print(f"error: training interrupted ({why.args[0]}); checkpoints written so far are "
              "complete", file=sys.stderr)
        sys.exit(130)


def main_under_launcher(start):
    """main(), but a worker of a distributed job that fails exits at once: a normal exit
    waits in ps-lite's shutdown barrier for the other workers, which wait for this one."""
    try:
        main(start)
        return
    except SystemExit as stop:
        if not stop.code:
            return
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == '__main__':
    if UNDER_LAUNCHER:
        main_under_launcher(time.time())
    else:
        main(time.time())

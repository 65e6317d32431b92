"""Measure what each of a model's reading rules earns: every other view, the odds another
view's reading must beat, and the fuller-window rule, each left out or changed in turn.

Every image is read once through its first view and, where that reading could be replaced,
through each other view; each rule is then applied to those same readings, so the variants
differ only in the rule (decoded greedily). Prints a row per variant with its exact-match
accuracy on each labelled folder, and the mean over the folders:

    python tools/reading_rules.py data/dev-claptcha data/dev-wheezy ...

The readings come from reader/reading.py's functions; decisions made with these figures
are in docs/decisions.md#reading-rules.
"""
import os
import sys
from dataclasses import replace

import numpy as np
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, fail  # noqa: E402
from common.image_conversion import read_image  # noqa: E402
from common.labelled_files import labelled_files  # noqa: E402
from reader.reading import (  # noqa: E402
    FULLER_WINDOW_SHARE,
    OTHER_VIEW_ODDS,
    add_model_arguments,
    best_other_reading,
    is_unsure,
    load_model,
    other_views,
    read_batches,
    read_files,
)

VIEWS = ('soft', 'thin', 'windows')
ONLY = {'soft': {'thin_view': False, 'window_views': False},
        'thin': {'soft_view': 0.0, 'window_views': False},
        'windows': {'soft_view': 0.0, 'thin_view': False}}
ODDS_TRIED = (1.25, 2.0, 3.0)  # besides OTHER_VIEW_ODDS
LOWEST_ODDS = min(ODDS_TRIED)  # images surer than 1 / this are not read again under any rule


def variants():
    """(name, views used, odds, fuller share) of every rule tried."""
    rules = [('one view', (), OTHER_VIEW_ODDS, FULLER_WINDOW_SHARE),
             ('every view', VIEWS, OTHER_VIEW_ODDS, FULLER_WINDOW_SHARE)]
    rules += [(f"without {name}", tuple(v for v in VIEWS if v != name), OTHER_VIEW_ODDS,
               FULLER_WINDOW_SHARE) for name in VIEWS]
    rules += [(f"only {name}", (name,), OTHER_VIEW_ODDS, FULLER_WINDOW_SHARE) for name in VIEWS]
    rules += [(f"odds {odds}", VIEWS, odds, FULLER_WINDOW_SHARE) for odds in ODDS_TRIED]
    rules.append(('no fuller rule', VIEWS, OTHER_VIEW_ODDS, float('inf')))
    return rules


def named_readings(model, view, image):
    """{view name: (readings of its whole views, readings of its windows)} of one image,
    for the views its model's settings name."""
    hp, named = model.config.hp, {}
    for name in VIEWS:
        config = replace(model.config, hp=replace(hp, **ONLY[name]))
        wholes, windows = other_views(config, view, image)
        if len(wholes) + len(windows):
            readings = read_batches(model, np.concatenate([wholes, windows]), 0)
            named[name] = (readings[:len(wholes)], readings[len(wholes):])
    return named


def apply_rule(first, named, views, odds, share):
    """The reading a rule gives an image from its first and other readings."""
    if not is_unsure(first, odds) or not views:
        return first
    wholes = [r for name in views if name in named for r in named[name][0]]
    windows = [r for name in views if name in named for r in named[name][1]]
    return best_other_reading(first, wholes, windows, odds, share)


def measure(model, folder):
    """{variant name: exact-match accuracy} on one labelled folder."""
    files = labelled_files(folder)
    if not files:
        raise ValueError(f"{folder} has no labelled images")
    paths, labels = zip(*files)
    good, views, errors = read_files(paths, model.config.conversion)
    if errors:
        raise ValueError(f"{folder}: {errors[0]}")
    firsts = read_batches(model, views, 0)
    others = [named_readings(model, views[i], read_image(path))
              if is_unsure(firsts[i], LOWEST_ODDS) else {}
              for i, path in enumerate(tqdm(good, desc=os.path.basename(folder), leave=False))]
    return {name: np.mean([apply_rule(first, named, used, odds, share).text == label
                           for first, named, label in zip(firsts, others, labels)])
            for name, used, odds, share in variants()}


def main():
    parser = Parser(description=__doc__.split('\n\n')[0])
    add_model_arguments(parser)
    parser.add_argument('folders', nargs='+', help="labelled folders (<text>_<anything>.png)")
    args = parser.parse_args()
    try:
        model = load_model(args, batch_size=256)
        table = {folder: measure(model, folder) for folder in args.folders}
    except (OSError, ValueError) as err:
        fail(str(err))
    names = [name for name, *_ in variants()]
    width = max(len(os.path.basename(f.rstrip('/'))) for f in table) + 2
    print(f"{'variant':16}" + ''.join(f"{os.path.basename(f.rstrip('/')):>{width}}"
                                      for f in table) + f"{'mean':>8}")
    for name in names:
        scores = [table[f][name] for f in table]
        print(f"{name:16}" + ''.join(f"{100 * s:{width}.2f}" for s in scores)
              + f"{100 * np.mean(scores):8.2f}")


if __name__ == '__main__':
    main()

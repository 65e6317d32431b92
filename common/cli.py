"""Command-line plumbing shared by the example's scripts.

Bad input ends a script with one line on stderr that says what to fix, and exit code 2,
instead of a usage dump or a traceback.
"""
import argparse
import os
import sys
import time

from common.alphabet import parse_charset


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default in --help, except None (nothing given: the help says
    what happens then) and defaults the help text already states."""

    def _get_help_string(self, action):
        if action.default is None or '(default' in (action.help or ''):
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """ArgumentParser with defaults shown in --help and one-line errors."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=DefaultsFormatter, **kwargs)

    def error(self, message):
        fail(f"{message} (see {self.prog} --help)")


def use_every_core():
    """Let MXNet's operators use every CPU this process may run on, for a process with no
    captcha workers beside it (readers, training from a dataset). MXNet's default is one
    thread per two CPUs (it assumes hyper-threading), which on 2 cores leaves one idle. Its
    threads sleep while they wait instead of spinning, so that a process sharing the machine
    slows down in proportion to the cores it loses (docs/decisions.md#passive-threads).
    Works only before mxnet is imported."""
    os.environ.setdefault('OMP_NUM_THREADS', str(len(os.sched_getaffinity(0))))
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')


def fail(message):
    """Print `error: message` on stderr and exit with code 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _number(text, kind, noun):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {noun}")


def positive_int(text):
    value = _number(text, int, 'a whole number')
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    value = _number(text, int, 'a whole number')
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text):
    value = _number(text, float, 'a number')
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def non_negative_float(text):
    value = _number(text, float, 'a number')
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def charset(text):
    """'0-9A-Z' -> the characters it names (alphabet.parse_charset)."""
    try:
        return parse_charset(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err))


def length_range(text):
    """'4-6' -> (4, 6); '5' -> (5, 5)."""
    low, _, high = text.partition('-')
    try:
        lengths = (int(low), int(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a length or a range like 4-6")
    if not 1 <= lengths[0] <= lengths[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of lengths from 1 up")
    return lengths


def progress(items, total, label):
    """Yield from `items` with a progress bar on stderr (tqdm: count, rate, time left). When
    stderr is not a terminal the bar is not redrawn; one line says what was done, at the end.
    Without tqdm (the ONNX reader's environment may lack it) the items just pass through."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from items
        return
    if sys.stderr.isatty():
        yield from tqdm(items, total=total, desc=label, file=sys.stderr, unit='')
        return
    start, done = time.monotonic(), 0
    for done, item in enumerate(items, 1):
        yield item
    print(tqdm.format_meter(done, total, time.monotonic() - start, prefix=label, unit='',
                            ascii=True),
          file=sys.stderr, flush=True)

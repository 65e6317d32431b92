"""Plot the training curves that lstm_ocr_train.py writes to PREFIX-log.csv.

    python tools/plot_log.py ocr-log.csv                 # -> ocr-log.png
    python tools/plot_log.py a-log.csv b-log.csv --out compare.png

Validation exact-match and LCS accuracy (and the training loss, where the CTC head reports
one) against the captchas trained on, one colour per run: a measure of learning that does
not depend on how fast the machine was that day (the log has the minutes too).
"""
import os
import sys

from matplotlib.figure import Figure  # no pyplot: nothing needs a display

# run as `python tools/NAME.py`: the example's root holds the modules these scripts use
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import Parser, fail
from common.training_log import read_log

WIDTH, HEIGHT, DPI = 10, 4, 100  # a 1000x400 pixel PNG


def plot(logs, out):
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    accuracy, loss = figure.subplots(1, 2)
    for path, log in logs.items():
        name = os.path.basename(path).removesuffix('-log.csv')
        seen = [samples / 1000 for samples in log['samples']]
        line, = accuracy.plot(seen, [100 * a for a in log['val_accuracy']],
                              marker='.', label=f"{name} exact match")
        accuracy.plot(seen, [100 * a for a in log['val_lcs_accuracy']], ':',
                      color=line.get_color(), label=f"{name} LCS")
        loss.plot(seen, log['train_ctc_loss'], color=line.get_color(), label=name)
    accuracy.set(xlabel='captchas trained on (thousands)', ylabel='validation accuracy (%)',
                 ylim=(0, 100))
    loss.set(xlabel='captchas trained on (thousands)', ylabel='training CTC loss (epoch mean)',
             yscale='log')
    for axes in (accuracy, loss):
        axes.grid(alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(out)
    print(f"Training curves written to {out}")


def main():
    parser = Parser(description="Plot training curves from lstm_ocr_train.py's PREFIX-log.csv.")
    parser.add_argument('logs', nargs='+', metavar='LOG', help="PREFIX-log.csv files")
    parser.add_argument('--out', help="PNG to write (default: the first LOG with .png)")
    args = parser.parse_args()
    try:
        logs = {path: read_log(path) for path in args.logs}
    except ValueError as err:
        fail(err)
    plot(logs, args.out or os.path.splitext(args.logs[0])[0] + '.png')


if __name__ == '__main__':
    main()

"""The characters a model reads, and the one place text becomes CTC labels and back.

Class 0 is the CTC blank (and the padding of a label row); the i-th character of the
alphabet is class i + 1. For the default alphabet "0123456789", digit d is class d + 1, as
in the original example. A charset is written out ("0123456789abc") or with ranges
("0-9A-Z"). An alphabet with letters of one case only reads labels of either case: they are
folded to its case, since such a model cannot tell the cases apart.

No mxnet here: generator workers, datasets and the ONNX reader import it too.
"""
import shlex

import numpy as np

DIGITS = '0123456789'


def parse_charset(text):
    """'0-9A-Z' -> '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'. Raises ValueError."""
    chars, i = [], 0
    while i < len(text):
        if i + 2 < len(text) and text[i + 1] == '-':
            first, last = text[i], text[i + 2]
            if ord(last) < ord(first):
                raise ValueError(f"charset range {first}-{last} runs backwards")
            chars.extend(chr(c) for c in range(ord(first), ord(last) + 1))
            i += 3
        else:
            chars.append(text[i])
            i += 1
    if not chars:
        raise ValueError("the charset is empty: give e.g. 0-9 or 0-9A-Z")
    repeated = sorted({c for c in chars if chars.count(c) > 1})
    if repeated:
        raise ValueError(f"charset {text!r} lists {''.join(repeated)!r} more than once")
    if any(c.isspace() or not c.isprintable() for c in chars):
        raise ValueError(f"charset {text!r} has a space or an unprintable character")
    return ''.join(chars)


def covering_charset(texts):
    """The charset, in ranges, that spells every text: whole ranges of the digits and the
    letters of each case they use, other characters as they are. ['A7', 'b'] -> '0-9a-zA-Z'."""
    used = set(''.join(texts))
    ranges = {spec: set(parse_charset(spec)) for spec in ('0-9', 'a-z', 'A-Z')}
    kept = ''.join(spec for spec, chars in ranges.items() if used & chars)
    others = used.difference(*ranges.values())
    return kept + ''.join(sorted(others)).replace('-', '') + ('-' if '-' in others else '')


def steps_needed(text):
    """CTC steps a label needs: one per character, plus a blank between equal neighbours."""
    return len(text) + sum(a == b for a, b in zip(text, text[1:]))


class Alphabet:
    """The characters of a model, class i + 1 for chars[i]."""

    def __init__(self, chars=DIGITS):
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}
        cased = [c for c in chars if c.lower() != c.upper()]
        self.case = ('lower' if cased and all(c.islower() for c in cased) else
                     'upper' if cased and all(c.isupper() for c in cased) else None)

    @property
    def num_classes(self):
        """Network outputs per step: the blank and every character."""
        return len(self.chars) + 1

    @property
    def is_digits(self):
        return set(self.chars) <= set(DIGITS)

    def fold(self, text):
        """The label as this alphabet spells it: folded to its one case, if it has one."""
        if self.case == 'lower':
            return text.lower()
        if self.case == 'upper':
            return text.upper()
        return text

    def problem(self, text, num_label, num_steps=None, charset_hint=None):
        """Why `text` (already folded) cannot be a label of this model, or None.
        `charset_hint`: a charset that spells every label, to suggest."""
        if not text:
            return "its label is empty"
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            fix = (f"--charset {shlex.quote(charset_hint)} spells every label" if charset_hint else
                   "set --charset")
            return (f"its label {text!r} has {''.join(unknown)!r}, not in the alphabet "
                    f"{self.chars!r} ({fix})")
        if len(text) > num_label:
            return (f"its label {text!r} has {len(text)} characters, more than --num_label "
                    f"{num_label}")
        if num_steps is not None and steps_needed(text) > num_steps:
            return (f"its label {text!r} needs {steps_needed(text)} CTC steps (a step per "
                    f"character and one between repeats) but the network has {num_steps}")
        return None

    def encode(self, text, num_label):
        """'089' -> [1, 9, 10, 0] (float32, padded with 0 to num_label). Raises ValueError."""
        why = self.problem(text, num_label)
        if why:
            raise ValueError(f"cannot encode {text!r}: {why}")
        label = np.zeros(num_label, dtype=np.float32)
        label[:len(text)] = [self.index[c] for c in text]
        return label

    def decode(self, classes):
        """Class ids (no blanks) -> text; [1, 9, 10] -> '089'."""
        return ''.join(self.chars[int(c) - 1] for c in classes)

    def label_text(self, label):
        """A 0-padded label row -> its text: [1, 9, 10, 0] -> '089'."""
        return self.decode(c for c in label if c != 0)

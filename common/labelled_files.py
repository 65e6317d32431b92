"""Labelled image files, as people keep them: the one place a label is read off a file.

- a folder of images named `<text>_<anything>.<ext>` or `<text>.<ext>` (the label is the
  name up to its first underscore): `0089_17.png`, `a7k2q.jpg`;
- a labels file, one image a line: `path,text` (CSV) or `path<TAB>text`, paths relative to
  the labels file; a first line `path,text` (or `filename,label`, ...) is a header.

A listed image is read by image_conversion.image_bytes (a regular file of at most
MAX_FILE_BYTES); a label has at most LONGEST_LABEL characters. No mxnet here: the ONNX
reader's --eval reads these too.
"""
import csv
import os

from common.image_conversion import IMAGE_SUFFIXES

LABELS_FILE_SUFFIXES = ('.csv', '.tsv', '.txt')
HEADER_WORDS = {'path', 'file', 'filename', 'image', 'name'}
LONGEST_LABEL = 256  # far more than any captcha's text; a network reading it needs 256+ steps
LONGEST_LINE = 4096 + 1 + LONGEST_LABEL  # a path of PATH_MAX, a comma, a label


def text_of(path):
    """'data/0089_17.png' -> '0089'; 'a7k2q.jpg' -> 'a7k2q'."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem.split('_', 1)[0]


def image_files(folder):
    """A folder's image files (by name: anything else there is the reader's to refuse),
    sorted. Raises ValueError if there are none or the folder cannot be listed."""
    try:
        names = os.listdir(folder)
    except OSError as err:
        raise ValueError(f"cannot list folder {folder!r} ({err.strerror})")
    files = sorted(os.path.join(folder, f) for f in names
                   if f.lower().endswith(IMAGE_SUFFIXES) and not f.startswith('.'))
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {folder!r}")
    return files


def labels_file_lines(path):
    """Yield (line number, line) of a labels file, refusing a line longer than any labels
    file's before it is read whole. Raises ValueError naming the file."""
    try:
        with open(path, newline='', encoding='utf-8') as f:
            number = 0
            while line := f.readline(LONGEST_LINE + 1):
                number += 1
                if len(line.rstrip('\r\n')) > LONGEST_LINE:
                    raise ValueError(f"{path!r} line {number} is longer than {LONGEST_LINE:,} "
                                     f"characters, more than a path and a label (no model "
                                     f"reads more than {LONGEST_LABEL} characters) take")
                yield number, line.rstrip('\r\n')
    except UnicodeDecodeError:
        raise ValueError(f"{path!r} is not a labels file: it is not UTF-8 text") from None
    except OSError as err:
        raise ValueError(f"cannot read labels file {path!r} ({err.strerror})") from None


def labels_line_fields(path, number, line):
    """A labels file's line -> its fields. Raises ValueError naming the line."""
    if '\t' in line:
        return line.split('\t')
    try:
        return next(csv.reader([line]))
    except csv.Error as err:
        raise ValueError(f"{path!r} line {number} is not a CSV line ({err})") from None


def read_labels_file(path):
    """A labels file -> [(image path, text)]. Raises ValueError naming the first bad line."""
    folder = os.path.dirname(os.path.abspath(path))
    entries, seen = [], set()
    for number, line in labels_file_lines(path):
        if not line.strip():
            continue
        fields = labels_line_fields(path, number, line)
        if len(fields) != 2:
            raise ValueError(f"{path!r} line {number} is not 'path,text' or 'path<TAB>text': "
                             f"{line[:100]!r}")
        name, text = fields[0].strip(), fields[1].strip()
        if number == 1 and name.lower() in HEADER_WORDS:
            continue
        if len(text) > LONGEST_LABEL:
            raise ValueError(f"{path!r} line {number} has a label of {len(text):,} characters:"
                             f" no model reads more than {LONGEST_LABEL}")
        image = os.path.normpath(os.path.join(folder, name))
        if image in seen:
            raise ValueError(f"{path!r} line {number} names {name!r} a second time: each image "
                             "once")
        if not os.path.lexists(image):
            raise ValueError(f"{path!r} line {number} names {name!r}, which does not exist")
        seen.add(image)
        entries.append((image, text))
    if not entries:
        raise ValueError(f"labels file {path!r} lists no images")
    return entries


def labelled_files(path):
    """A labelled folder or labels file -> [(image path, text)]. Raises ValueError."""
    if os.path.isdir(path):
        return [(image, text_of(image)) for image in image_files(path)]
    if not os.path.isfile(path):
        raise ValueError(f"{path!r} does not exist: give a folder of labelled images or a "
                         "labels file")
    if not path.lower().endswith(LABELS_FILE_SUFFIXES):
        raise ValueError(f"{path!r} is neither a folder nor a labels file ("
                         f"{', '.join(LABELS_FILE_SUFFIXES)}) nor a RecordIO file (.rec)")
    return read_labels_file(path)

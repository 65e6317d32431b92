"""Labelled image files, as people keep them: the one place a label is read off a file.

- a folder of images named `<text>_<anything>.<ext>` or `<text>.<ext>` (the label is the
  name up to its first underscore): `0089_17.png`, `a7k2q.jpg`;
- a labels file, one image a line: `path,text` (CSV) or `path<TAB>text`, paths relative to
  the labels file; a first line `path,text` (or `filename,label`, ...) is a header.

No mxnet here: the ONNX reader's --eval reads these too.
"""
import csv
import os

from common.image_conversion import IMAGE_SUFFIXES

LABELS_FILE_SUFFIXES = ('.csv', '.tsv', '.txt')
HEADER_WORDS = {'path', 'file', 'filename', 'image', 'name'}


def text_of(path):
    """'data/0089_17.png' -> '0089'; 'a7k2q.jpg' -> 'a7k2q'."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem.split('_', 1)[0]


def image_files(folder):
    """A folder's image files, sorted. Raises ValueError if there are none."""
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith(IMAGE_SUFFIXES) and not f.startswith('.'))
    if not files:
        raise ValueError(f"no image files ({', '.join(IMAGE_SUFFIXES)}) in folder {folder!r}")
    return files


def read_labels_file(path):
    """A labels file -> [(image path, text)]. Raises ValueError naming the first bad line."""
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, newline='', encoding='utf-8') as f:
        lines = f.read().splitlines()
    entries, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split('\t') if '\t' in line else next(csv.reader([line]))
        if len(fields) != 2:
            raise ValueError(f"{path!r} line {number} is not 'path,text' or 'path<TAB>text': "
                             f"{line!r}")
        name, text = fields[0].strip(), fields[1].strip()
        if number == 1 and name.lower() in HEADER_WORDS:
            continue
        image = os.path.normpath(os.path.join(folder, name))
        if image in seen:
            raise ValueError(f"{path!r} line {number} names {name!r} a second time: each image "
                             "once")
        if not os.path.isfile(image):
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

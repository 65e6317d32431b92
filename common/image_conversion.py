"""Images in, network input out: the one place an image becomes what the network reads.

Every path goes through here: captchas drawn for training, RecordIO and labelled-folder
datasets, and both readers (MXNet and ONNX Runtime). An image file is decoded by OpenCV into
BGR colour (transparent pixels laid on white, as a browser shows them; GIF, which OpenCV's
wheels do not decode, by Pillow: its first frame), and a `Conversion`
turns it into the network's *view*: a uint8 image of `height` x `width`. The network input
is the view transposed and scaled to [0, 1], (width, height) float32: row t is pixel column
t, so that the LSTM reads the image left to right, one column per step.

- 'plain' (the original example's): gray, shrunk to width x height by pixel-area averaging
  (for the captcha package's 160x60 images, exactly what the original's bilinear resize
  to 80x30 gives).
- 'ink': shrunk the same way, in colour; then each colour channel relative to the
  background's colour (taken from the border; the image inverted first when that reads
  better), keeping the darkest: text of any colour comes out dark on a white background.
  How it was chosen: docs/decisions.md#ink.
- 'ink_crop': 'ink' of the part of the image where the text is (`text_box`), for captchas
  whose text is a small part of a large canvas; an image whose text fills it is not cut.

A reader that is unsure of an image may read other views of it (reading.read_views): the
view blurred (`soften`) or thinned (`thin`), the view of its text part, and the views of
windows of a large image (`window_boxes`). A model records its conversion in its settings
(model_config.py), so it is read exactly as it was trained. Only numpy and OpenCV here, and
Pillow for GIF files.
"""
import io
import os
from dataclasses import dataclass

import cv2
import numpy as np

# silent: unreadable files are reported by the caller (OpenCV 5 moved the switch)
if hasattr(cv2, 'setLogLevel'):
    cv2.setLogLevel(0)
else:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.pgm',
                  '.ppm')
CONVERSIONS = ('plain', 'ink', 'ink_crop')


def decode_image(data, name='image'):
    """Bytes of an image file -> BGR uint8 (H, W, 3). Raises ValueError naming `name`."""
    if not data:
        raise ValueError(f"{name} is an empty file")
    # OpenCV decodes a cut-off JPEG or PNG without complaint, greying out the missing part
    if data[:2] == b'\xff\xd8' and not ends_with(data, b'\xff\xd9'):
        raise ValueError(f"{name} is a truncated JPEG: copy or download it again")
    if data[:8] == b'\x89PNG\r\n\x1a\n' and b'IEND' not in data[-16:]:
        raise ValueError(f"{name} is a truncated PNG: copy or download it again")
    if data[:6] in (b'GIF87a', b'GIF89a'):
        if not ends_with(data, b';'):  # a GIF's trailer byte
            raise ValueError(f"{name} is a truncated GIF: copy or download it again")
        image = decode_gif(data, name)
    else:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ValueError(f"cannot read {name}: give a JPEG, PNG, BMP, GIF, WebP or TIFF file")
    return to_bgr(image)


def ends_with(data, marker):
    """Whether an image file ends with `marker`, past the padding some writers add."""
    return data.rstrip(b'\0 \t\r\n').endswith(marker)


def decode_gif(data, name):
    """A GIF file's first frame -> BGRA uint8, or None if it cannot be decoded.

    OpenCV's pip wheels are built without a GIF decoder, and many sites serve captchas as GIF.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError(f"{name} is a GIF, which needs Pillow: pip install pillow") from None
    try:
        with Image.open(io.BytesIO(data)) as gif:
            rgba = np.asarray(gif.convert('RGBA'))
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]])


def read_image(path):
    """An image file -> BGR uint8 (H, W, 3). Raises ValueError if it is missing or unreadable."""
    if not os.path.isfile(path):
        raise ValueError(f"image {path!r} not found")
    with open(path, 'rb') as f:
        return decode_image(f.read(), f"image {path!r}")


def to_bgr(image):
    """Any decoded image (gray, BGR, BGRA; 8-bit, 16-bit or float) -> BGR uint8."""
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * 255, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 2:  # gray + alpha
        image = cv2.cvtColor(image[:, :, :1], cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:].astype(np.float32) / 255
        image = image[:, :, :3] * alpha + 255 * (1 - alpha)
        return image.round().astype(np.uint8)
    return image[:, :, :3]


@dataclass(frozen=True)
class Conversion:
    """How an image becomes the network's view: a conversion name and the view's size."""
    name: str = 'plain'
    width: int = 80
    height: int = 30

    def __post_init__(self):
        if self.name not in CONVERSIONS:
            raise ValueError(f"unknown input conversion {self.name!r}: use one of "
                             f"{', '.join(CONVERSIONS)}")

    def view(self, bgr):
        """BGR uint8 (H, W, 3) -> the network's view, uint8 (height, width)."""
        if self.name == 'ink_crop':
            bgr = self.text_part(bgr)
        if self.name in ('ink', 'ink_crop'):  # shrunk first: the same view, 640x360 costs no more
            return ink_gray(self.fit(bgr))
        return self.fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))

    def text_part(self, bgr):
        """The part of a BGR image where its text is, in the view's aspect (text_box)."""
        top, bottom, left, right = text_box(bgr, self.width / self.height)
        return bgr[top:bottom, left:right]

    def text_part_view(self, bgr):
        """The view of the part of a BGR image where its text is (text_part), or None where
        that part is the whole image."""
        part = self.text_part(bgr)
        return None if part.shape == bgr.shape else self.view(part)

    def window_views(self, bgr):
        """The views of a BGR image's windows (window_boxes), uint8 (k, height, width); none
        for an image too small to have windows as tall as the view."""
        boxes = window_boxes(*bgr.shape[:2], self.width / self.height, self.height)
        views = [self.view(bgr[top:bottom, left:right]) for top, bottom, left, right in boxes]
        return np.array(views, np.uint8).reshape(-1, self.height, self.width)

    def fit(self, image):
        """A gray or colour image of any size -> (height, width) by pixel-area averaging."""
        if image.shape[:2] == (self.height, self.width):
            return image
        return cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)

    def read(self, path):
        """An image file -> its view. Raises ValueError if unreadable."""
        return self.view(read_image(path))


def ink_gray(bgr):
    """BGR -> gray with the text dark on a white background, whatever the colours (the 'ink'
    conversion).

    Each channel is divided by the background's value in it (the border's median), which
    turns the background white, and the darkest of those ratios is kept: a coloured stroke
    is dark in at least one channel even when its gray level equals the background's
    (yellow on cream). Channels in which the background is dark (the green of a magenta
    background) are left out: they carry little but the background's own pattern. Light
    text on a darker background needs the image inverted first; of the two readings, the
    one whose background comes out plainest against its text is kept."""
    image = bgr.astype(np.float32)
    readings = [relative_darkness(image), relative_darkness(255 - image)]
    best = max((r for r in readings if r is not None), key=text_contrast)
    return (best * 255).round().astype(np.uint8)


def border(image):
    """The outermost pixels of an (H, W[, C]) image, in one array."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def relative_darkness(image):
    """Float BGR -> how much darker than the background each pixel is, as (H, W) in [0, 1]
    (1 = background), or None if the background is too dark to compare against."""
    background = np.median(border(image), axis=0)
    if background.max() < 64:
        return None
    light = background >= 0.5 * background.max()
    ratio = image[:, :, light] / background[light]
    return np.minimum(ratio.min(axis=2), 1)


def text_contrast(reading):
    """How much a reading varies overall against how much its border (background) does."""
    return reading.std() / (border(reading).std() + 0.02)


def text_box(bgr, aspect, work_height=120):
    """Where the text of a BGR image is -> (top, bottom, left, right) in its pixels: the
    whole image unless the text leaves out at least 40 % of it.

    Strokes make strong edges close together; a filled shape has edges only round its
    outline, a line only along itself. So the image, shrunk to `work_height` rows and read
    as 'ink', is marked where a pixel differs from a neighbour by more than a quarter of
    the range, those marks are averaged over a fifth of the height, and the box holds every
    place at least 45 % as marked as the densest. It is padded by a third of its height and
    widened (or heightened) to the view's `aspect`, so the text is not stretched."""
    height, width = bgr.shape[:2]
    scale = work_height / height
    small = cv2.resize(bgr, (max(1, round(width * scale)), work_height),
                       interpolation=cv2.INTER_AREA)
    reading = ink_gray(small).astype(np.float32) / 255
    kernel = np.ones((3, 3), np.uint8)
    edges = (cv2.dilate(reading, kernel) - cv2.erode(reading, kernel)) > 0.25
    window = work_height // 5
    density = cv2.blur(edges.astype(np.float32), (window, window))
    whole = (0, height, 0, width)
    if density.max() == 0:
        return whole
    rows, columns = np.nonzero(density >= 0.45 * density.max())
    top, bottom = rows.min(), rows.max() + 1
    left, right = columns.min(), columns.max() + 1
    pad = (bottom - top) / 3
    top, bottom, left, right = top - pad, bottom + pad, left - pad, right + pad
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    box_width = max(right - left, (bottom - top) * aspect)
    box_height = box_width / aspect
    top, bottom = max(0, centre_y - box_height / 2), min(work_height, centre_y + box_height / 2)
    left = max(0, centre_x - box_width / 2)
    right = min(small.shape[1], centre_x + box_width / 2)
    if (bottom - top) * (right - left) > 0.6 * small.shape[0] * small.shape[1]:
        return whole
    return (int(top / scale), int(np.ceil(bottom / scale)), int(left / scale),
            int(np.ceil(right / scale)))


# Windows a reader searches a large image with for small text: parts of 0.4, 0.55 and 0.75
# of the image's height, in the view's aspect, each size laid over the image on a grid
# overlapping by two thirds (29 windows on a 480x270 canvas): docs/decisions.md#window-views
WINDOW_HEIGHTS = (0.4, 0.55, 0.75)
WINDOW_OVERLAP = 2 / 3


def window_boxes(height, width, aspect, min_height):
    """(top, bottom, left, right) of the windows of an image of height x width pixels:
    WINDOW_HEIGHTS of its height, `aspect` times as wide (at most the image's width), on a
    grid overlapping by WINDOW_OVERLAP. None is shorter than `min_height` pixels: a captcha
    whose text fills it would be read in pieces, each blown up."""
    boxes = []
    for share in WINDOW_HEIGHTS:
        box_height = int(height * share)
        if box_height < min_height:
            continue
        box_width = int(min(width, box_height * aspect))
        step = 1 - WINDOW_OVERLAP
        rows = int(np.ceil((height - box_height) / (box_height * step))) + 1
        columns = int(np.ceil((width - box_width) / (box_width * step))) + 1
        for top in np.unique(np.linspace(0, height - box_height, rows).astype(int)):
            for left in np.unique(np.linspace(0, width - box_width, columns).astype(int)):
                boxes.append((int(top), int(top) + box_height, int(left),
                              int(left) + box_width))
    return boxes


PIXEL_EACH_WAY = np.ones((3, 3), np.uint8)  # the kernel that spreads or thins ink by a pixel


def soften(views, sigma):
    """Views (n, height, width) uint8 -> the same with their ink spread by a pixel each way
    (a 3x3 minimum: the text is dark) and blurred by a Gaussian of `sigma` pixels: a view in
    which glyphs printed as dots or hatching become strokes again. Spreading first joins
    dots the blur alone only greys (docs/decisions.md#soft-view)."""
    return each_view(views, lambda view: cv2.GaussianBlur(cv2.erode(view, PIXEL_EACH_WAY),
                                                          (0, 0), sigma))


def thin(views):
    """Views (n, height, width) uint8 -> the same with their ink thinned by a pixel each way
    (a 3x3 maximum: the text is dark): a view in which bold or shadowed glyphs that run
    together come apart."""
    return each_view(views, lambda view: cv2.dilate(view, PIXEL_EACH_WAY))


def each_view(views, change):
    """Views (n, height, width) uint8 -> `change` applied to each, in the same array shape."""
    return np.array([change(view) for view in views], np.uint8).reshape(views.shape)


def network_input(views):
    """Views (n, height, width) uint8 -> network input (n, width, height) float32 in [0, 1]."""
    return np.ascontiguousarray(np.asarray(views, dtype=np.float32).transpose(0, 2, 1)) / 255

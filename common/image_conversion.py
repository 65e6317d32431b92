"""Images in, network input out: the one place an image becomes what the network reads.

Every path goes through here: captchas drawn for training, RecordIO and labelled-folder
datasets, and both readers (MXNet and ONNX Runtime). An image file passes one gate first
(checked_size): its size, as its header declares it (read by Pillow, nothing decoded), must
be within MAX_PIXELS and MAX_ASPECT, and every decoder's failure is one UnreadableImageError
(a ValueError; ImageTooLargeError past the limits). It is then decoded by OpenCV into
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
(model_config.py), so it is read exactly as it was trained. Only numpy, OpenCV and Pillow
here.
"""
import errno
import io
import os
import stat
import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from common.whole_files import file_kind

# silent: unreadable files are reported by the caller (OpenCV 5 moved the switch)
if hasattr(cv2, 'setLogLevel'):
    cv2.setLogLevel(0)
else:
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff', '.webp', '.pgm',
                  '.ppm')
CONVERSIONS = ('plain', 'ink', 'ink_crop')


# The decoding gate: a captcha is a few hundred pixels across, so a file declaring more is
# refused before its pixels are decoded (a few bytes can declare gigabytes of them).
MAX_PIXELS = 2048 * 2048
MAX_ASPECT = 20  # the longer side at most this many times the shorter
MAX_FILE_BYTES = 32 << 20  # far more than any captcha: a larger file is refused before it is read
# what Pillow may identify: the formats OpenCV decodes here too, GIF aside (decode_gif)
HEADER_FORMATS = ('PNG', 'JPEG', 'BMP', 'GIF', 'WEBP', 'TIFF', 'PPM')
READABLE = "give a JPEG, PNG, BMP, GIF, WebP or TIFF file"
LIMITS = (f"at most {MAX_PIXELS:,} pixels (e.g. 2048 x 2048), at most {MAX_ASPECT} times as "
          "wide as tall or as tall as wide")


class UnreadableImageError(ValueError):
    """An image file that cannot be read: empty, cut off, not an image, or too large."""


class ImageTooLargeError(UnreadableImageError):
    """An image file whose declared size is past the gate's limits (LIMITS)."""


def decode_image(data, name='image'):
    """Bytes of an image file -> BGR uint8 (H, W, 3), once it has passed the gate
    (checked_size). Raises UnreadableImageError (a ValueError) naming `name`."""
    checked_size(data, name)
    try:
        image = decode_gif(data) if is_gif(data) else cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        image = None
    if image is None or image.size == 0:
        raise UnreadableImageError(f"cannot read {name}: {READABLE}")
    return to_bgr(image)


def checked_size(data, name='image'):
    """Bytes of an image file -> (width, height) as its header declares them, nothing
    decoded: the gate every image passes before it is decoded. Raises UnreadableImageError
    for an empty, cut-off or unidentifiable file, ImageTooLargeError past the limits."""
    if not data:
        raise UnreadableImageError(f"{name} is an empty file")
    # OpenCV decodes a cut-off JPEG or PNG without complaint, greying out the missing part
    if data[:2] == b'\xff\xd8' and not ends_with(data, b'\xff\xd9'):
        raise UnreadableImageError(f"{name} is a truncated JPEG: copy or download it again")
    if data[:8] == b'\x89PNG\r\n\x1a\n' and b'IEND' not in data[-16:]:
        raise UnreadableImageError(f"{name} is a truncated PNG: copy or download it again")
    if is_gif(data) and not ends_with(data, b';'):  # a GIF's trailer byte
        raise UnreadableImageError(f"{name} is a truncated GIF: copy or download it again")
    width, height = declared_size(data, name)
    check_size(width, height, name)
    return width, height


def is_gif(data):
    return data[:6] in (b'GIF87a', b'GIF89a')


def ends_with(data, marker):
    """Whether an image file ends with `marker`, past the padding some writers add."""
    return data.rstrip(b'\0 \t\r\n').endswith(marker)


def pillow_image():
    """Pillow's Image module, its own decompression-bomb check set to MAX_PIXELS.

    Pillow reads an image's size from its header without decoding the pixels; its own
    check, at this limit, also keeps the WebP decoder from allocating a huge canvas when the
    file is opened."""
    try:
        from PIL import Image
    except ImportError:
        raise UnreadableImageError("reading images needs Pillow: pip install pillow") from None
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    # between one and two times the limit Pillow only warns: check_size refuses those
    warnings.filterwarnings('ignore', category=Image.DecompressionBombWarning)
    return Image


def declared_size(data, name='image'):
    """Bytes of an image file -> (width, height) its header declares, nothing decoded.
    Raises UnreadableImageError, ImageTooLargeError for a size even Pillow refuses."""
    Image = pillow_image()
    try:
        with Image.open(io.BytesIO(data), formats=HEADER_FORMATS) as image:
            return image.size
    except Image.DecompressionBombError:
        raise ImageTooLargeError(f"{name} declares an image too large to read: {LIMITS}")
    except (OSError, ValueError, SyntaxError, EOFError):
        raise UnreadableImageError(f"cannot read {name}: {READABLE}")


def check_size(width, height, name='image'):
    """Refuse an image size past the gate's limits. Raises ImageTooLargeError."""
    if width * height > MAX_PIXELS or max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageTooLargeError(f"{name} is {width} x {height} pixels, past the limits of "
                                 f"{LIMITS}: not a captcha")


def decode_gif(data):
    """A GIF file's first frame -> BGRA uint8, or None if it cannot be decoded.

    OpenCV's pip wheels are built without a GIF decoder, and many sites serve captchas as GIF.
    """
    Image = pillow_image()
    try:
        with Image.open(io.BytesIO(data), formats=('GIF',)) as gif:
            rgba = np.asarray(gif.convert('RGBA'))
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None
    return np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]])


def read_image(path):
    """An image file -> BGR uint8 (H, W, 3). Raises UnreadableImageError if it cannot be
    read (image_bytes) or decoded."""
    return decode_image(image_bytes(path), f"image {path!r}")


def image_bytes(path):
    """The bytes of an image file: the one place one is read. Raises UnreadableImageError
    naming it if it is missing or cannot be opened (a broken or looping link, no
    permission), is not a regular file (a folder, a device, a pipe) or is larger than
    MAX_FILE_BYTES, all checked before anything is read."""
    try:  # O_NONBLOCK: opening a named pipe must not wait for a writer
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise UnreadableImageError(f"cannot open image {path!r}: {opening_error(path, err)}")
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableImageError(f"image {path!r} is {file_kind(info.st_mode)}, not an "
                                       "image file")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageTooLargeError(f"image {path!r} has {info.st_size:,} bytes, more than "
                                     f"{MAX_FILE_BYTES >> 20} MB, far more than a captcha needs")
        with os.fdopen(descriptor, 'rb', closefd=False) as f:
            return f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise UnreadableImageError(f"cannot read image {path!r}: {err.strerror}")
    finally:
        os.close(descriptor)


def opening_error(path, err):
    """Why a file could not be opened, in a few words."""
    if err.errno == errno.ENOENT:
        return 'a link to a missing file' if os.path.islink(path) else 'not found'
    return err.strerror


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
        return on_white(image)
    return image[:, :, :3]


def on_white(bgra):
    """BGRA uint8 -> BGR uint8 laid on white: 255 - (255 - colour) * alpha / 255, rounded,
    in 16-bit integers (6 bytes a pixel, where floats took 36)."""
    alpha = bgra[:, :, 3:].astype(np.uint16)
    ink = (255 - bgra[:, :, :3]).astype(np.uint16)
    ink *= alpha
    ink += 127
    ink //= 255
    return (255 - ink).astype(np.uint8)


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
            return ink_gray(self.fit(without_frame(bgr)))
        return self.fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))

    def text_part(self, bgr):
        """The part of a BGR image where its text is, in the view's aspect (text_box)."""
        top, bottom, left, right = text_box(bgr, self.width / self.height)
        return bgr[top:bottom, left:right]

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

    Each channel is divided by the background's value in it at each pixel (background_of:
    the border's median colour, or a plane through a dark-to-light border), which turns the
    background white, and the darkest of those ratios is kept: a coloured stroke is dark in
    at least one channel even when its gray level equals the background's (yellow on
    cream). Channels in which the background is dark (the green of a magenta background)
    are left out: they carry little but the background's own pattern. Light text on a
    darker background needs the image inverted first; of the two readings, the one whose
    background comes out plainest against its text is kept. A frame round the image must
    be cut off first (without_frame): the border would be taken for the background."""
    background, colour = background_of(bgr)
    readings = [relative_darkness(bgr, background, colour),
                relative_darkness(255 - bgr, 255 - background, 255 - colour)]
    best = max((r for r in readings if r is not None), key=text_contrast)
    return (best * 255).round().astype(np.uint8)


def background_of(bgr):
    """BGR uint8 -> (the background's colour at each pixel, float (H, W, 3), the border's
    median colour). The background is that median, or where the border's colours change
    steadily across the image (a dark-to-light background) a plane fitted to them, if that
    fits them far better."""
    height, width = bgr.shape[:2]
    values = border(bgr).astype(np.float32)
    median = np.median(values, axis=0)
    off_median = np.median(np.abs(values - median))
    if off_median < PLANE_SLOPE / 8:  # too even a border for a slope of PLANE_SLOPE
        return np.broadcast_to(median, bgr.shape), median
    rows, columns = np.indices((height, width), np.float32)
    design = np.stack([np.ones(len(values), np.float32), border(columns) / width,
                       border(rows) / height], axis=1)
    coefficients = np.linalg.lstsq(design, values, rcond=None)[0]
    off_plane = np.median(np.abs(values - design @ coefficients))
    if off_plane < PLANE_FIT * off_median and np.abs(coefficients[1:]).max() > PLANE_SLOPE:
        grid = np.stack([np.ones_like(rows), columns / width, rows / height], axis=2)
        return np.clip(grid @ coefficients, 1, 255), median
    return np.broadcast_to(median, bgr.shape), median


# A plane replaces the border's median where it fits the border at least twice as closely
# and the background changes by over PLANE_SLOPE levels across the image:
# docs/decisions.md#frames-and-gradients
PLANE_FIT = 0.5
PLANE_SLOPE = 80
FRAME_DEPTH = 0.1  # of the height: the widest frame cut off a side


def without_frame(bgr):
    """A BGR image without the frame drawn round it: each side loses its outermost lines of
    pixels while they are of one colour far from the image's prevailing one. A line of the
    background itself is kept, so a captcha without a frame is left as it is."""
    prevailing = np.median(bgr[::4, ::4].reshape(-1, 3), axis=0)
    top, bottom, left, right = 0, bgr.shape[0], 0, bgr.shape[1]
    depth = max(1, round(FRAME_DEPTH * bgr.shape[0]))
    while top < depth and is_frame_line(bgr[top, left:right], prevailing):
        top += 1
    while bgr.shape[0] - bottom < depth and is_frame_line(bgr[bottom - 1, left:right], prevailing):
        bottom -= 1
    while left < depth and is_frame_line(bgr[top:bottom, left], prevailing):
        left += 1
    while bgr.shape[1] - right < depth and is_frame_line(bgr[top:bottom, right - 1], prevailing):
        right -= 1
    return bgr[top:bottom, left:right]


def is_frame_line(pixels, prevailing):
    """Whether a line of BGR pixels is of one colour, and far from the prevailing one (its
    mean first: the common case, a line of the background, is decided by that alone)."""
    if np.abs(pixels.mean(axis=0) - prevailing).max() <= 40:
        return False
    colour = np.median(pixels, axis=0)
    even = (np.abs(pixels.astype(np.int16) - colour).max(axis=1) < 24).mean() >= 0.9
    return even and np.abs(colour - prevailing).max() > 48


def border(image):
    """The outermost pixels of an (H, W[, C]) image, in one array."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def relative_darkness(bgr, background, overall):
    """BGR uint8, its background at each pixel and overall (background_of) -> how much
    darker than the background each pixel is, as (H, W) in [0, 1] (1 = background), or None
    if the background is too dark to compare against."""
    if overall.max() < 64:
        return None
    light = overall >= 0.5 * overall.max()
    ratio = bgr[:, :, light].astype(np.float32) / np.maximum(background[:, :, light], 1)
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
MAX_WINDOWS = 64  # a bound on the work per image: a long strip would have hundreds


def window_boxes(height, width, aspect, min_height):
    """(top, bottom, left, right) of the windows of an image of height x width pixels:
    WINDOW_HEIGHTS of its height, `aspect` times as wide (at most the image's width), on a
    grid overlapping by WINDOW_OVERLAP. None is shorter than `min_height` pixels: a captcha
    whose text fills it would be read in pieces, each blown up. At most MAX_WINDOWS: the
    grids of the largest windows are kept first, a grid whole or not at all."""
    grids = {}
    for share in sorted(WINDOW_HEIGHTS, reverse=True):
        box_height = int(height * share)
        if box_height < min_height:
            continue
        grid = window_grid(height, width, box_height, int(min(width, box_height * aspect)))
        if sum(map(len, grids.values())) + len(grid) <= MAX_WINDOWS:
            grids[share] = grid
    return [box for share in WINDOW_HEIGHTS for box in grids.get(share, [])]


def window_grid(height, width, box_height, box_width):
    """The boxes of box_height x box_width laid over the image overlapping by WINDOW_OVERLAP."""
    step = 1 - WINDOW_OVERLAP
    rows = int(np.ceil((height - box_height) / (box_height * step))) + 1
    columns = int(np.ceil((width - box_width) / (box_width * step))) + 1
    return [(int(top), int(top) + box_height, int(left), int(left) + box_width)
            for top in np.unique(np.linspace(0, height - box_height, rows).astype(int))
            for left in np.unique(np.linspace(0, width - box_width, columns).astype(int))]


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

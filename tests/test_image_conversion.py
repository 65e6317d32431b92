"""The one image conversion, used by training and by both readers."""
import io
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from common.captcha_styles import CAPTCHA_NOISE, Drawer
from common.image_conversion import (
    WINDOW_HEIGHTS,
    WINDOW_OVERLAP,
    Conversion,
    decode_image,
    network_input,
    read_image,
    soften,
    text_box,
    thin,
    window_boxes,
    without_frame,
)


def test_network_input_reads_columns_left_to_right():
    view = np.zeros((30, 80), np.uint8)
    view[:, 0] = 255
    inputs = network_input(view[None])
    assert inputs.shape == (1, 80, 30) and inputs.dtype == np.float32
    assert np.all(inputs[0, 0] == 1.0) and np.all(inputs[0, 1:] == 0.0)


def test_soften_joins_a_screen_of_dots_into_one_dark_stroke():
    views = np.full((2, 60, 160), 255, np.uint8)
    views[0, 20:40:4, 20:140:4] = views[0, 21:41:4, 21:141:4] = 0  # 2x2 dots, 4 pixels apart
    views[0, 21:41:4, 20:140:4] = views[0, 20:40:4, 21:141:4] = 0
    soft = soften(views, 1.0)
    assert soft.shape == views.shape and soft.dtype == np.uint8
    screen, stroke = views[0, 22:38, 22:138], soft[0, 22:38, 22:138]
    assert screen.max() == 255 and stroke.max() < 64  # the ink spread: no light left between
    blurred_alone = cv2.GaussianBlur(views[0], (0, 0), 1.0)[22:38, 22:138]
    assert blurred_alone.mean() > 128  # which a blur alone only greys
    assert stroke.std() < 0.2 * screen.std()  # an even dark stroke instead of a screen
    assert soft[0, :10].min() == 255 and np.all(soft[1] == 255)  # away from the dots: as it was
    assert soften(views[:0], 1.0).shape == (0, 60, 160)


def test_thin_takes_a_pixel_off_each_side_of_every_stroke():
    views = np.full((2, 60, 160), 255, np.uint8)
    views[0, 10:50, 30:35] = 0  # a stroke 5 pixels wide
    views[0, 10:50, 60] = 0  # and one a pixel wide, which goes
    thinned = thin(views)
    assert thinned.shape == views.shape and thinned.dtype == np.uint8
    assert np.array_equal(np.flatnonzero(thinned[0, 30] == 0), np.arange(31, 34))
    assert thinned[0, 10].min() == 255 and thinned[0, 11, 31:34].max() == 0  # ends too
    assert np.all(thinned[1] == 255)
    assert thin(views[:0]).shape == (0, 60, 160)


def test_plain_conversion_of_any_size_depth_and_colour():
    plain = Conversion()
    assert plain.view(np.full((60, 160, 3), 200, np.uint8)).shape == (30, 80)
    assert plain.view(np.full((1, 1, 3), 9, np.uint8)).shape == (30, 80)
    deep = cv2.imencode('.png', np.full((60, 160), 65535, np.uint16))[1].tobytes()
    assert plain.view(decode_image(deep)).max() == 255


def test_a_colour_file_reads_as_its_gray_view(tmp_path):
    bgr = np.random.RandomState(0).randint(0, 256, (60, 160, 3)).astype(np.uint8)
    path = str(tmp_path / 'x.png')
    cv2.imwrite(path, bgr)
    expected = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (80, 30),
                          interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(Conversion().read(path), expected)


def test_transparent_pixels_lie_on_white(tmp_path):
    bgra = np.zeros((10, 10, 4), np.uint8)  # black, fully transparent
    bgra[5, 5] = (0, 0, 0, 255)             # one opaque black pixel
    path = str(tmp_path / 't.png')
    cv2.imwrite(path, bgra)
    image = read_image(path)
    assert image[0, 0].tolist() == [255, 255, 255] and image[5, 5].tolist() == [0, 0, 0]


@pytest.mark.parametrize('cut,says', [('.jpg', 'truncated JPEG'), ('.png', 'truncated PNG')])
def test_cut_off_files_are_refused(cut, says):
    data = cv2.imencode(cut, np.random.RandomState(1).randint(0, 256, (60, 160, 3),
                                                              dtype=np.uint8))[1].tobytes()
    with pytest.raises(ValueError, match=says):
        decode_image(data[:len(data) // 2])


def _gif_bytes(frames, **save):
    """RGB uint8 frames -> the bytes of a GIF file Pillow writes (one frame, or an animation)."""
    buffer = io.BytesIO()
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(buffer, 'GIF', save_all=True, append_images=images[1:], **save)
    return buffer.getvalue()


def _stripes(colours):
    """A 60x160 RGB image in stripes of a few colours: a GIF palette holds them exactly."""
    rgb = np.zeros((60, 160, 3), np.uint8)
    for i, colour in enumerate(colours):
        rgb[:, i * 160 // len(colours):] = colour
    return rgb


def test_gif_files_read_as_their_first_frame():
    first = _stripes([(250, 240, 200), (20, 40, 160), (200, 30, 30)])
    second = _stripes([(0, 0, 0), (255, 255, 255)])
    for frames in ([first], [first, second]):
        bgr = decode_image(_gif_bytes(frames))
        np.testing.assert_array_equal(bgr, first[:, :, ::-1])


def test_transparent_gif_pixels_lie_on_white():
    image = Image.fromarray(_stripes([(0, 0, 0), (10, 200, 10)])).convert('P', palette=Image.Palette.ADAPTIVE)
    transparent = image.getpixel((0, 0))   # black, the left half
    buffer = io.BytesIO()
    image.save(buffer, 'GIF', transparency=transparent)
    bgr = decode_image(buffer.getvalue())
    assert bgr[0, 0].tolist() == [255, 255, 255] and bgr[0, 159].tolist() == [10, 200, 10]


def test_cut_off_gif_is_refused():
    data = _gif_bytes([np.random.RandomState(1).randint(0, 256, (60, 160, 3), dtype=np.uint8)])
    with pytest.raises(ValueError, match='truncated GIF'):
        decode_image(data[:len(data) // 2])
    with pytest.raises(ValueError, match='cannot read'):
        decode_image(data[:6] + b'\0' * 20 + b';')


def test_images_without_pillow_say_what_to_install(monkeypatch):
    gif = _gif_bytes([_stripes([(0, 0, 0), (255, 255, 255)])])
    png = cv2.imencode('.png', _stripes([(0, 0, 0)]))[1].tobytes()
    monkeypatch.setitem(sys.modules, 'PIL', None)  # as where Pillow is not installed
    for data in (gif, png):  # the decoding gate reads every header with it
        with pytest.raises(ValueError, match='needs Pillow: pip install pillow'):
            decode_image(data)


def test_unknown_conversion_is_refused():
    with pytest.raises(ValueError, match='unknown input conversion'):
        Conversion('sharpen')


def _text_on(background, text):
    """A 60x160 BGR image of one colour with a filled 'text' block of another."""
    image = np.full((60, 160, 3), background, np.uint8)
    image[20:40, 40:120] = text
    return image


def test_ink_keeps_yellow_text_on_cream_that_gray_loses():
    image = _text_on((200, 240, 250), (40, 230, 240))  # BGR: cream, yellow
    plain, ink = Conversion('plain').view(image), Conversion('ink').view(image)
    assert abs(int(plain[15, 40]) - int(plain[0, 0])) < 30     # gray: nearly invisible
    assert int(ink[0, 0]) - int(ink[15, 40]) > 150             # ink: dark on light


def test_ink_hides_a_background_pattern_in_a_channel_the_background_lacks():
    image = _text_on((255, 0, 255), (60, 30, 20))       # magenta, dark text
    image[::2, ::2, 1] = 120                            # a pattern in green only
    ink = Conversion('ink', 160, 60).view(image)
    assert ink[0].min() == 255 and ink[30, 80] < 70


def test_ink_turns_light_text_on_dark_into_dark_on_light():
    ink = Conversion('ink').view(_text_on((40, 20, 30), (220, 250, 240)))
    assert ink[0, 0] > 200 and ink[15, 40] < 40


def test_ink_leaves_gray_images_on_white_as_they_are():
    gray = np.full((60, 160), 255, np.uint8)
    strokes = np.random.RandomState(2).randint(0, 256, (40, 140), np.uint8)
    gray[10:50, 10:150] = np.where(strokes < 64, strokes * 3, 255)  # gray ink on a quarter
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    np.testing.assert_array_equal(Conversion('ink', 160, 60).view(bgr), gray)


@pytest.mark.parametrize('width', [1, 2, 4])
@pytest.mark.parametrize('colour', [(0, 0, 0), (128, 128, 128), (200, 60, 30)])
def test_a_frame_of_any_colour_is_cut_off_and_a_captcha_without_one_is_left_whole(
        font, width, colour):
    plain = _captcha(font)
    framed = cv2.copyMakeBorder(plain, width, width, width, width, cv2.BORDER_CONSTANT,
                                value=colour)
    np.testing.assert_array_equal(without_frame(framed), plain)
    assert without_frame(plain) is not None and without_frame(plain).shape == plain.shape


def test_ink_whitens_a_dark_to_light_background_and_keeps_the_text():
    image = _text_on((230, 230, 230), (20, 20, 20)).astype(np.float32)
    image *= np.linspace(0.3, 1, 160, dtype=np.float32)[None, :, None]  # dark at the left
    ink = Conversion('ink', 160, 60).view(image.astype(np.uint8))
    assert ink[[0, -1]].min() > 200 and ink[:, [0, -1]].min() > 200
    assert ink[30, 45] < 80 and ink[30, 115] < 80



def _captcha(font, text='4071'):
    """A real 160x60 captcha-package captcha, BGR, the same one every run."""
    CAPTCHA_NOISE.seed(1)  # the captcha package warps each glyph with it
    return Drawer([font]).draw(text, np.random.default_rng(1))


def test_the_text_box_of_a_small_captcha_on_a_large_canvas_holds_it_and_little_else(font):
    canvas = np.full((360, 640, 3), (170, 210, 230), np.uint8)  # a tinted 640x360 page
    cv2.circle(canvas, (80, 80), 40, (90, 40, 140), -1)          # and a blob far from it
    canvas[200:260, 300:460] = _captcha(font)
    top, bottom, left, right = text_box(canvas, 160 / 60)
    assert top <= 205 and bottom >= 255 and left <= 305 and right >= 455
    assert (bottom - top) * (right - left) < 0.25 * 360 * 640
    ink = Conversion('ink', 160, 60).view(canvas) < 128
    cropped = Conversion('ink_crop', 160, 60).view(canvas) < 128
    assert cropped.any(axis=0).sum() > 1.5 * ink.any(axis=0).sum()  # the text spans more steps


def test_a_captcha_whose_text_fills_it_is_not_cut(font):
    captcha = _captcha(font)
    assert text_box(captcha, 160 / 60) == (0, 60, 0, 160)
    np.testing.assert_array_equal(Conversion('ink_crop', 160, 60).view(captcha),
                                  Conversion('ink', 160, 60).view(captcha))
    assert text_box(np.full((50, 50, 3), 255, np.uint8), 160 / 60) == (0, 50, 0, 50)


def test_windows_cover_a_large_image_in_the_view_aspect_and_skip_a_small_one():
    aspect = 160 / 60
    boxes = window_boxes(270, 480, aspect, 60)
    heights = sorted({bottom - top for top, bottom, _, _ in boxes})
    assert heights == [int(270 * share) for share in WINDOW_HEIGHTS]
    covered = np.zeros((270, 480), bool)
    for top, bottom, left, right in boxes:
        assert 0 <= top < bottom <= 270 and 0 <= left < right <= 480
        assert right - left == min(480, int((bottom - top) * aspect))
        covered[top:bottom, left:right] = True
    assert covered.all()
    # neighbours of one size overlap by at least WINDOW_OVERLAP of the window
    smallest = sorted((left, top) for top, bottom, left, right in boxes
                      if bottom - top == heights[0])
    lefts = sorted({left for left, _ in smallest})
    assert max(np.diff(lefts)) <= (1 - WINDOW_OVERLAP) * int(heights[0] * aspect) + 1
    assert window_boxes(60, 160, aspect, 60) == []  # a captcha its text fills: no windows
    assert {b - t for t, b, _, _ in window_boxes(100, 300, aspect, 60)} == {75}  # 0.75 only


def test_window_views_are_views_of_the_windows(font):
    canvas = np.full((270, 480, 3), (170, 210, 230), np.uint8)
    canvas[100:160, 200:360] = _captcha(font)
    conversion = Conversion('ink', 160, 60)
    views = conversion.window_views(canvas)
    boxes = window_boxes(270, 480, 160 / 60, 60)
    assert views.shape == (len(boxes), 60, 160) and views.dtype == np.uint8
    top, bottom, left, right = boxes[-1]
    np.testing.assert_array_equal(views[-1], conversion.view(canvas[top:bottom, left:right]))
    assert conversion.window_views(_captcha(font)).shape == (0, 60, 160)

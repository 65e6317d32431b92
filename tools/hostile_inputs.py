"""Hostile input for the reading service and the readers (issue #35), made small and cheap.

Image bombs are files whose header declares far more pixels than they hold: a few hundred
bytes that ask a decoder for gigabytes. They are written here as real files of their format
(Pillow opens each and reports the declared size) with next to no pixel data, so that making
them costs nothing. Malformed requests are the raw bytes of HTTP requests to POST /read,
sent over a socket (`send_raw`) so that nothing between fixes them up; stalled ones send
their headers and part of their body, then nothing (`stalled_request`).

Used by the hostile-input tests and by tools/bench.py's hostile load test.
"""
import io
import os
import re
import select
import socket
import struct
import zlib

from PIL import Image

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack(
        '>I', zlib.crc32(kind + data) & 0xffffffff)


def png_declaring(width, height, palette=False):
    """A PNG whose header says width x height (8-bit gray, or palette with a transparent
    entry), its pixel data a few rows of zeros."""
    colour_type = 3 if palette else 0
    chunks = [png_chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, colour_type, 0, 0,
                                             0))]
    if palette:
        chunks += [png_chunk(b'PLTE', bytes(range(6))), png_chunk(b'tRNS', b'\0')]
    rows = zlib.compress(b'\0' * (1 + width) * min(height, 4), 9)
    chunks += [png_chunk(b'IDAT', rows), png_chunk(b'IEND', b'')]
    return PNG_SIGNATURE + b''.join(chunks)


def gif_declaring(width, height):
    """A GIF89a whose screen and only image say width x height, its pixel data one code."""
    screen = b'GIF89a' + struct.pack('<HHBBB', width, height, 0x80, 0, 0) + b'\0' * 3 + \
        b'\xff' * 3
    image = b',' + struct.pack('<HHHHB', 0, 0, width, height, 0)
    pixels = b'\x02\x02\x44\x01\x00'  # LZW minimum code size 2: clear, a pixel, end
    return screen + image + pixels + b';'


def webp_declaring(width, height):
    """A lossless WebP with alpha whose header says width x height: Pillow's 1x1 one, its
    size bits rewritten."""
    buffer = io.BytesIO()
    Image.new('RGBA', (1, 1), (0, 0, 0, 0)).save(buffer, 'WEBP', lossless=True)
    data = bytearray(buffer.getvalue())
    if data[12:16] != b'VP8L' or data[20] != 0x2f:
        raise RuntimeError("this Pillow writes another WebP layout: write the header anew")
    size_bits = (width - 1) | (height - 1) << 14 | 1 << 28  # alpha used, version 0
    data[21:25] = struct.pack('<I', size_bits)
    return bytes(data)


def png_of(width, height, mode='L'):
    """A real PNG of one colour, written by Pillow: a few hundred bytes for a long strip."""
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, 'PNG')
    return buffer.getvalue()


def image_bombs():
    """name -> the bytes of an image file the decoding gate must refuse (issue #35)."""
    return {'png_10000x1': png_of(10000, 1),
            'png_100000x1': png_of(100000, 1),
            'png_palette_20000x20000': png_declaring(20000, 20000, palette=True),
            'webp_16383x16383': webp_declaring(16383, 16383),
            'gif_12000x12000': gif_declaring(12000, 12000),
            'gif_screen_65535x65535': gif_declaring(65535, 65535),
            'gif_20000x20000': gif_declaring(20000, 20000),
            'png_60000x60000': png_declaring(60000, 60000),
            'png_4000x4000': png_of(4000, 4000, '1'),
            'png_strip_100000x150': png_of(100000, 150)}


BOUNDARY = 'hostileboundary'


def multipart(parts, boundary=BOUNDARY):
    """[(part headers as text lines, body bytes)] -> a multipart body."""
    out = b''
    for headers, body in parts:
        out += f"--{boundary}\r\n".encode() + ''.join(f"{h}\r\n" for h in headers).encode() + \
            b'\r\n' + body + b'\r\n'
    return out + f"--{boundary}--\r\n".encode()


def file_part(body, name='image', extra=()):
    return ([f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"',
             *extra], body)


def request(body, content_type='image/png', headers=()):
    """The bytes of a POST /read with this body (Content-Length set)."""
    head = ['POST /read HTTP/1.1', 'Host: 127.0.0.1', f'Content-Type: {content_type}',
            f'Content-Length: {len(body)}', 'Connection: close', *headers]
    return '\r\n'.join(head).encode() + b'\r\n\r\n' + body


def malformed_requests(image):
    """name -> the bytes of a malformed POST /read (issue #35); `image` is a good image's
    bytes, put where a part is expected."""
    form = f'multipart/form-data; boundary={BOUNDARY}'
    mixed = f'multipart/mixed; boundary={BOUNDARY}'
    good_part = file_part(image)
    long_boundary = 'b' * 71
    nested = multipart([(['Content-Disposition: form-data; name="x"',
                          'Content-Type: multipart/mixed; boundary=inner'],
                         multipart([file_part(image)], 'inner'))])
    return {
        'multipart_without_boundary': request(multipart([good_part]), 'multipart/form-data'),
        'multipart_wrong_boundary': request(multipart([good_part], 'another'), form),
        'multipart_boundary_over_70': request(multipart([good_part], long_boundary),
                                              f'multipart/form-data; boundary={long_boundary}'),
        'multipart_nested_mixed': request(nested, form),
        'multipart_long_charset': request(multipart([
            (['Content-Disposition: form-data; name="_charset_"'], b'x' * 5000), good_part]),
            form),
        'multipart_charset_not_utf8': request(multipart([
            (['Content-Disposition: form-data; name="_charset_"'], b'\xff\xfe\xfd'),
            good_part]), form),
        # multipart/mixed: aiohttp ignores a form-data part's Content-Length
        'multipart_part_length_over_body': request(multipart([
            file_part(image, extra=[f'Content-Length: {len(image) + 10 ** 9}'])]), mixed),
        'multipart_part_length_negative': request(multipart([
            file_part(image, extra=['Content-Length: -5'])]), mixed),
        'multipart_header_line_over_8k': request(multipart([
            file_part(image, extra=['X-Long: ' + 'a' * 9000])]), form),
        'multipart_500_part_headers': request(multipart([
            file_part(image, extra=[f'X-H{i}: v' for i in range(500)])]), form),
        'deflate_garbage': request(b'\x00garbage that is not deflate' * 10,
                                   headers=['Content-Encoding: deflate']),
    }


def send_raw(url, data, timeout=30):
    """Send raw request bytes to the server at `url` (http://host:port) -> (status, the
    answer's bytes)."""
    with connect(url, timeout) as sock:
        sock.sendall(data)
        answer = read_answer(sock)
    return status_of(answer), answer


def connect(url, timeout):
    host, port = url.split('//', 1)[1].rsplit(':', 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_answer(sock):
    """An answer's bytes, up to the end of its body (Content-Length) or of the connection."""
    answer = b''
    while chunk := sock.recv(1 << 16):
        answer += chunk
        head, ends, body = answer.partition(b'\r\n\r\n')
        length = re.search(rb'(?i)\r\ncontent-length: *(\d+)', head)
        if ends and length and len(body) >= int(length.group(1)):
            break
    return answer


def status_of(answer):
    """The status code of a raw HTTP answer, or None if there was none."""
    parts = answer.split(b' ', 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def stalled_request(url, kind, image, timeout=30):
    """Open a POST /read whose body never ends and wait for the server's answer -> (status,
    answer bytes). `kind`: 'stall' (headers, half the body, then nothing), 'trickle' (then a
    byte every 0.3 s), 'chunked' (a chunked body whose last chunk never comes)."""
    with connect(url, timeout) as sock:
        if kind == 'chunked':
            sock.sendall(b'POST /read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png'
                         b'\r\nTransfer-Encoding: chunked\r\n\r\n' +
                         f"{len(image):x}\r\n".encode() + image + b'\r\n')
        else:
            sock.sendall(request(image)[:-len(image) // 2])
        if kind == 'trickle':
            trickle(sock, image[len(image) // 2:])
        answer = read_answer(sock)
    return status_of(answer), answer


def trickle(sock, rest):
    """Send `rest` a byte every 0.3 s, until the server answers (or the bytes run out)."""
    for byte in rest:
        readable, _, _ = select.select([sock], [], [], 0.3)
        if readable:
            return
        sock.sendall(bytes([byte]))


def stalled_upload(url, declared, sent):
    """A socket that has sent a multipart POST /read declaring `declared` bytes, `sent` of
    them, and then nothing: the caller hangs up (close) or waits for the answer."""
    sock = connect(url, 30)
    head = [f'--{BOUNDARY}', 'Content-Disposition: form-data; name="a"; filename="a.png"', '']
    body = '\r\n'.join(head).encode() + b'\r\n' + os.urandom(sent)
    sock.sendall(request(body, f'multipart/form-data; boundary={BOUNDARY}')
                 .replace(f'Content-Length: {len(body)}'.encode(),
                          f'Content-Length: {declared}'.encode(), 1))
    return sock

"""Image processing: size rules, draft decoding, pass-through, frames, rejections."""

from __future__ import annotations

import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFilter, JpegImagePlugin

from flickrspider.emulator.images import FrameSpec, render
from flickrspider.imagerules import REASONS, ImageRejected, ImageRules
from flickrspider.imaging import _shrink, process

RULES = ImageRules()
FRAME = FrameSpec(30, 30, 30, 30, ((30, (250, 250, 250)),))


def _jpeg(im: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _photo(w: int = 1024, h: int = 768, seed: int = 3) -> Image.Image:
    with Image.open(io.BytesIO(render(seed, w, h, None, w, h, "PNG"))) as im:
        return im.convert("RGB")


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def _rejected(body: bytes, rules: ImageRules = RULES) -> str:
    with pytest.raises(ImageRejected) as info:
        process(body, rules)
    assert info.value.reason in REASONS
    return info.value.reason


def test_unframed_large_jpeg_is_passed_through() -> None:
    body = render(1, 1024, 768, None, 1024, 768)
    out = process(body, RULES)
    assert out.passthrough and out.data is body
    assert (out.width, out.height, out.frame) == (1024, 768, None)
    assert (out.source_format, out.source_width, out.source_height) == ("JPEG", 1024, 768)


@pytest.fixture
def drafted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of each JPEG right after ``draft``: the scale it is decoded at."""
    sizes: list[tuple[int, int]] = []
    real = JpegImagePlugin.JpegImageFile.draft

    def spy(
        self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None
    ) -> object:
        result = real(self, mode, size)
        sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return sizes


@pytest.mark.parametrize(
    ("size", "scaled"),
    [
        ((1024, 768), (512, 384)),
        ((1024, 819), (512, 410)),  # 819 // 410 == 1: asking a rounded-up 410 decodes whole
        ((683, 1024), (342, 512)),
        ((1000, 667), (1000, 667)),  # half would be under 512: decoded whole
    ],
)
def test_pass_through_decodes_at_reduced_scale(
    drafted: list[tuple[int, int]], size: tuple[int, int], scaled: tuple[int, int]
) -> None:
    body = render(1, *size, None, *size)
    assert process(body, RULES).passthrough
    assert drafted == [scaled]
    drafted.clear()
    assert process(body, ImageRules(remove_frames=False)).passthrough
    assert drafted == [tuple(-(-side // 8) for side in size)]  # no frames: 1/8 proves the data


def test_framed_jpeg_is_cropped_and_reencoded() -> None:
    body = render(2, 1024, 768, FRAME, 1024, 768)
    out = process(body, RULES)
    assert not out.passthrough
    assert out.frame is not None and all(30 <= f <= 34 for f in out.frame)
    assert (out.width, out.height) == (
        1024 - out.frame[0] - out.frame[2],
        768 - out.frame[1] - out.frame[3],
    )
    px = _pixels(out.data)
    assert px.shape == (out.height, out.width, 3)
    assert (px[:, :2] < 235).any()  # the white border is gone from the left edge


def test_frame_kept_when_removal_disabled() -> None:
    body = render(2, 1024, 768, FRAME, 1024, 768)
    out = process(body, ImageRules(remove_frames=False))
    assert out.passthrough and out.frame is None


@pytest.mark.parametrize(
    ("source", "scaled", "stored"),
    [
        ((2400, 1800), (1200, 900), (1024, 768)),
        ((2048, 1365), (1024, 683), (1024, 683)),  # exactly 1024 at 1/2: no resize at all
        ((1365, 2730), (683, 1365), (512, 1024)),
        ((1600, 1067), (1600, 1067), (1024, 683)),  # half would be under 1024
    ],
)
def test_large_source_is_drafted_and_shrunk(
    drafted: list[tuple[int, int]],
    source: tuple[int, int],
    scaled: tuple[int, int],
    stored: tuple[int, int],
) -> None:
    out = process(_jpeg(_photo(*source)), RULES)
    assert (out.width, out.height) == stored and not out.passthrough
    assert drafted == [scaled]  # the smallest scale keeping 1024 px, then LANCZOS to 1024
    assert (out.source_width, out.source_height) == source


def _texture(w: int, h: int) -> Image.Image:
    """Fine detail everywhere: where resampling kernels differ most."""
    noise = np.random.default_rng(5).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(noise).filter(ImageFilter.GaussianBlur(0.7))


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ((1600, 1200), (1024, 768)),
        ((1239, 697), (1024, 576)),
        ((358, 1072), (342, 1024)),
        ((7000, 3500), (1024, 512)),  # reduced by a box first, then Lanczos
        ((1025, 3), (1024, 3)),
    ],
)
def test_shrink_is_pillows_reducing_lanczos(source: tuple[int, int], size: tuple[int, int]) -> None:
    """libvips does the resize: the exact size asked for, and within rounding of what
    Pillow's LANCZOS with the same reducing gap gives (another kernel, or no
    reducing gap, differs by several levels on this texture)."""
    texture = _texture(*source)
    ours = _shrink(texture, size)
    pillows = texture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    assert ours.mode == "RGB" and ours.size == size
    diff = np.abs(np.asarray(ours, dtype=np.int16) - np.asarray(pillows, dtype=np.int16))
    assert diff.mean() < 0.4 and np.percentile(diff, 99) <= 2, (diff.mean(), diff.max())


def test_framed_large_source_frame_in_source_pixels() -> None:
    frame = FrameSpec(80, 80, 80, 80, ((80, (20, 20, 20)),))
    out = process(render(4, 2048, 1536, frame, 2048, 1536), RULES)
    assert out.frame is not None and all(80 <= f <= 90 for f in out.frame)
    assert out.width == 1024 and 700 < out.height < 768


def test_small_jpeg_never_enlarged() -> None:
    out = process(_jpeg(_photo(800, 600)), RULES)
    assert out.passthrough and (out.width, out.height) == (800, 600)


@pytest.mark.parametrize(
    ("size", "rules"),
    [((400, 300), RULES), ((2000, 800), RULES), ((900, 700), ImageRules(min_side=800))],
)
def test_too_small(size: tuple[int, int], rules: ImageRules) -> None:
    assert _rejected(_jpeg(_photo(*size)), rules) == "too_small"


def test_too_small_after_frame_removal() -> None:
    frame = FrameSpec(60, 60, 60, 60, ((60, (0, 0, 0)),))
    body = render(5, 1024, 560, frame, 1024, 560)
    assert _rejected(body) == "too_small"


def test_exif_orientation_is_applied() -> None:
    photo = _photo(1000, 700)
    photo.paste((255, 0, 0), (0, 0, 60, 60))  # a red mark, top left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    out = process(_jpeg(photo, exif=exif.tobytes()), RULES)
    assert not out.passthrough
    assert (out.width, out.height) == (700, 1000)
    assert (out.source_width, out.source_height) == (700, 1000)
    px = _pixels(out.data)
    assert px[20, -20, 0] > 200 and px[20, -20, 1] < 60  # now top right


def test_rgba_png_alpha_over_white() -> None:
    im = _photo(800, 600).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 255))
    im.paste((0, 0, 0, 0), (0, 0, 100, 100))  # fully transparent corner
    out = process(_png(im), RULES)
    assert out.source_format == "PNG" and not out.passthrough
    assert (_pixels(out.data)[10:90, 10:90] > 245).all()


@pytest.mark.parametrize("mode", ["P", "L", "CMYK", "LA", "1"])
def test_modes_converted_to_rgb(mode: str) -> None:
    im = _photo(800, 600).convert(mode)
    body = _png(im) if mode in ("P", "LA", "1") else _jpeg(im)
    out = process(body, RULES)
    assert not out.passthrough
    with Image.open(io.BytesIO(out.data)) as res:
        assert res.mode == "RGB" and res.format == "JPEG"


def test_gif_source() -> None:
    buf = io.BytesIO()
    _photo(800, 600).quantize(64).save(buf, "GIF")
    out = process(buf.getvalue(), RULES)
    assert out.source_format == "GIF" and (out.width, out.height) == (800, 600)


def test_icc_profile_kept_on_reencode() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = process(_jpeg(_photo(2000, 1500), icc_profile=icc), RULES)
    with Image.open(io.BytesIO(out.data)) as res:
        assert res.info.get("icc_profile") == icc


def test_empty_and_not_image() -> None:
    assert _rejected(b"") == "empty"
    assert _rejected(b"<html>503 Service Unavailable</html>") == "not_image"
    assert _rejected(b"\xff\xd8\xff\xe0garbage") in ("not_image", "truncated")
    assert _rejected(b"BM" + bytes(100)) == "not_image"


@pytest.mark.parametrize("cut", [0.5, 0.9, -2])
def test_truncated_jpeg(cut: float) -> None:
    body = render(6, 1024, 768, None, 1024, 768)
    end = int(len(body) * cut) if cut > 0 else len(body) + int(cut)
    assert _rejected(body[:end]) == "truncated"
    assert _rejected(body[:end], ImageRules(remove_frames=False)) == "truncated"


def test_truncated_png() -> None:
    body = _png(_photo(800, 600))
    assert _rejected(body[: len(body) // 2]) == "truncated"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_decompression_bomb_png_header() -> None:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    body = (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"x") + _chunk(b"IEND", b"")
    )
    assert _rejected(body) == "decompression_bomb"  # filterwarnings=error: no warning either


def test_decompression_bomb_jpeg_header() -> None:
    body = bytearray(_jpeg(_photo(64, 64)))
    sof = body.index(b"\xff\xc0")
    body[sof + 5 : sof + 9] = struct.pack(">HH", 60_000, 60_000)
    assert _rejected(bytes(body)) == "decompression_bomb"


def test_decompression_bomb_limit_is_configurable() -> None:
    body = _jpeg(_photo(1024, 768))
    assert _rejected(body, ImageRules(max_pixels=500_000)) == "decompression_bomb"


def test_decompression_bomb_gif_frame_extent() -> None:
    screen = b"GIF89a" + struct.pack("<HHBBB", 10, 10, 0, 0, 0)
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 30_000, 30_000, 0) + b"\x02\x02\x44\x01\x00\x3b"
    assert _rejected(screen + frame) == "decompression_bomb"


def test_unsupported_mode_16_bit_png() -> None:
    im = Image.fromarray(np.full((600, 800), 40_000, dtype=np.uint16))
    assert _rejected(_png(im)) == "unsupported_mode"


def test_rules_and_reasons_validated() -> None:
    with pytest.raises(ValueError, match="jpeg_quality"):
        ImageRules(jpeg_quality=0)
    with pytest.raises(ValueError, match="max_side"):
        ImageRules(max_side=0)
    with pytest.raises(ValueError, match="max_pixels"):
        ImageRules(max_pixels=0)
    with pytest.raises(ValueError, match="unknown"):
        ImageRejected("bad", "x")
    err = ImageRejected("too_small", "400x300")
    assert (err.reason, err.detail, str(err)) == ("too_small", "400x300", "too_small: 400x300")


def test_thread_pool_gives_same_results() -> None:
    bodies = [render(s, 1024, 768, FRAME if s % 2 else None, 1024, 768) for s in range(8)]
    serial = [process(b, RULES) for b in bodies]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda b: process(b, RULES), bodies))
    assert [(p.data, p.frame) for p in parallel] == [(s.data, s.frame) for s in serial]


def test_decompression_bomb_png_text_chunk() -> None:
    body = _png(_photo(600, 600))
    ztxt = _chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"a" * 20_000_000, 9))
    assert _rejected(body[:33] + ztxt + body[33:]) == "decompression_bomb"

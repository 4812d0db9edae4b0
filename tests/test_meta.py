"""``python -m flickrspider meta FILE.jpg``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from flickrspider import meta
from flickrspider.emulator.images import render
from flickrspider.jpegmeta import splice

ROOT = Path(__file__).resolve().parent.parent
META = {"id": "1", "ownername": "Zoë 東京", "title": "Tour Eiffel", "frame": [1, 2, 3, 4]}


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "1_abc_2_3@N00.jpg"
    path.write_bytes(splice(render(1, 320, 240, None, 320, 240), META))
    return path


def test_prints_indented_utf8_json(stored: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    assert meta.main([str(stored)]) == 0
    out, err = capfdbinary.readouterr()
    assert err == b""
    text = out.decode("utf-8")
    assert json.loads(text) == META
    assert '\n  "ownername": "Zoë 東京"' in text


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert meta.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("flickrspider meta: ")
    return err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in _error([str(tmp_path / "nope.jpg")], capsys)
    assert "directory" in _error([str(tmp_path)], capsys)


def test_not_a_jpeg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "a.jpg"
    path.write_text("<html>not an image</html>")
    assert "not a JPEG" in _error([str(path)], capsys)


def test_jpeg_without_our_comment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain, other = tmp_path / "plain.jpg", tmp_path / "other.jpg"
    plain.write_bytes(render(2, 320, 240, None, 320, 240))
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", comment=b"made with GIMP")
    other.write_bytes(buf.getvalue())
    assert "no flickrspider metadata" in _error([str(plain)], capsys)
    assert "no flickrspider metadata" in _error([str(other)], capsys)


def test_through_the_package_entry_point(stored: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flickrspider", "meta", str(stored)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.decode("utf-8")) == META

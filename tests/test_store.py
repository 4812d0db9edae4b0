from __future__ import annotations

import errno
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flickrspider.store import StoreError, check_writable, is_complete_jpeg, resolve, write_atomic


def test_write_atomic_leaves_only_the_complete_file(tmp_path):
    path = write_atomic(tmp_path, "kw/00000/1.jpg", b"\xff\xd8data\xff\xd9")
    assert path.read_bytes() == b"\xff\xd8data\xff\xd9"
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.jpg"]
    assert is_complete_jpeg(path)


@pytest.mark.parametrize("bad", ["../x.jpg", "/etc/x.jpg", "a/../../x.jpg", ""])
def test_paths_cannot_leave_the_store(tmp_path, bad):
    with pytest.raises(ValueError):
        resolve(tmp_path, bad)


def test_unwritable_store_is_a_clear_error_and_leaves_nothing(tmp_path):
    if os.geteuid() == 0:
        # root ignores permissions: simulate a full disk instead
        pytest.skip("permission bits do not bind root; see the full-disk test")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(StoreError):
        write_atomic(ro, "kw/1.jpg", b"x")


def test_full_disk_is_a_store_error_and_removes_the_part_file(tmp_path, monkeypatch):
    real_write = Path.write_bytes

    def full(self, data):
        real_write(self, data[: len(data) // 2])  # the disk fills up half way
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(StoreError, match="No space left"):
        write_atomic(tmp_path, "kw/1.jpg", b"xyzw")
    assert list((tmp_path / "kw").iterdir()) == []


def test_incomplete_jpegs(tmp_path):
    for name, data in {
        "a": b"",
        "b": b"\xff\xd8abc",
        "c": b"<html>",
        "d": b"\xff\xd8\xff\xd9",
    }.items():
        (tmp_path / name).write_bytes(data)
    assert [is_complete_jpeg(tmp_path / n) for n in "abcd"] == [False, False, False, True]
    assert not is_complete_jpeg(tmp_path / "missing")


def test_writers_starting_together_all_pass_the_write_check(tmp_path) -> None:
    # each probes with a file of its own (one shared probe name failed a second writer)
    with ThreadPoolExecutor(8) as threads:
        list(threads.map(lambda _: check_writable(tmp_path, ".state"), range(200)))
    assert list((tmp_path / ".state").iterdir()) == []

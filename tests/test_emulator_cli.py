"""The emulator's command line, config file and ``EmulatorProcess`` lifecycle."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from flickrspider.emulator import EmulatorConfig, EmulatorError, EmulatorProcess
from flickrspider.emulator.__main__ import build_config, parse_args
from flickrspider.emulator.config import parse_time


def test_parse_time_takes_unix_and_mysql_datetimes() -> None:
    assert (
        parse_time("1075593600")
        == parse_time("2004-02-01")
        == parse_time("2004-02-01 00:00:00")
        == 1075593600
    )
    assert parse_time(1075593600.7) == 1075593600 and parse_time("2004-02-01T00:00") == 1075593600
    assert (
        parse_time("yesterday") is None
        and parse_time("2004-13-01") is None
        and parse_time(True) is None
    )


def test_config_file_with_faults_and_cli_overrides(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(
        json.dumps(
            {
                "seed": 4,
                "keywords": {"paris": 30, "tokyo": 20},
                "faults": {"api_500": 0.25},
                "mixed_types": 0.1,
                "bursts": [{"keyword": "paris", "count": 10, "at": "2010-01-01 00:00:00"}],
            }
        )
    )
    config = build_config(parse_args(["--config", str(path)]))
    assert config.keywords == {"paris": 30, "tokyo": 20} and config.seed == 4
    assert (
        config.runtime.api_500 == 0.25
        and config.runtime.mixed_types == 0.1
        and config.bursts[0].seconds == 1
    )
    config = build_config(
        parse_args(["--config", str(path), "--photos", "7", "--seed", "9", "--keys", "a,b"])
    )
    assert (
        config.keywords == {"paris": 7, "tokyo": 7}
        and config.seed == 9
        and config.keys == ("a", "b")
    )
    config = build_config(parse_args(["--config", str(path), "--keywords", "tokyo,oslo"]))
    assert config.keywords == {"tokyo": 20, "oslo": 1000}


@pytest.mark.parametrize(
    ("data", "culprit"),
    [
        ({"keyword": {"paris": 3}}, "keyword"),
        ({"faults": {"api_999": 0.1}}, "api_999"),
        ({"api_500": 1.5}, "api_500"),
        ({"geo": 2}, "geo"),
        ({"start": "long ago"}, "start"),
        ({"bursts": [{"keyword": "oslo", "count": 5, "at": 1300000000}]}, "bursts"),
    ],
)
def test_bad_config_names_the_key(data: dict, culprit: str) -> None:
    with pytest.raises(ValueError, match=culprit):
        EmulatorConfig.from_dict(data)


def test_cli_prints_its_url_first_and_exits_cleanly_on_sigint() -> None:
    command = [
        sys.executable,
        "-m",
        "flickrspider.emulator",
        "--port",
        "0",
        "--keywords",
        "oslo",
        "--photos",
        "20",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/\n")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and out == "" and "Traceback" not in err


def test_emulator_process_lifecycle_and_start_failure(tmp_path: Path) -> None:
    with EmulatorProcess("--keywords", "oslo,bergen", "--photos", "40", config={"seed": 2}) as emu:
        assert len(emu.truth(text="oslo")) >= 40 and len(emu.truth(text="bergen")) >= 40
        proc = emu.proc
    assert emu.proc is None and proc is not None and proc.poll() == 0 and emu.returncode == 0
    with pytest.raises(EmulatorError, match="failed to start"):
        EmulatorProcess(config={"no_such_key": 1}, stderr=subprocess.DEVNULL).start()


def test_cache_dir_keeps_rendered_images(tmp_path: Path) -> None:
    def thumbnail(emu: EmulatorProcess) -> bytes:
        record = emu.photo(emu.truth(text="oslo")[0])
        with urllib.request.urlopen(record["urls"]["t"], timeout=30) as answer:
            return answer.read()

    args = ("--keywords", "oslo", "--photos", "30", "--cache-dir", str(tmp_path))
    with EmulatorProcess(*args) as emu:
        first = thumbnail(emu)
    cached = list(tmp_path.rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == first
    cached[0].write_bytes(first + b"from the cache")
    with EmulatorProcess(*args) as emu:
        assert thumbnail(emu) == first + b"from the cache"

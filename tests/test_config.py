from __future__ import annotations

import pytest
from scrapy.settings import Settings

from flickrspider import settings as project_settings
from flickrspider.config import ConfigError, FlickrConfig


def make(**overrides):
    settings = Settings()
    settings.setmodule(project_settings)
    settings.update(overrides)
    return FlickrConfig.from_settings(settings)


def test_defaults_match_the_spec():
    config = make()
    assert config.api_url == "https://api.flickr.com/services/rest/"
    assert config.calls_per_hour == 3600
    assert config.sizes == ("l", "o")
    assert (config.max_side, config.min_side, config.shard_size, config.jpeg_quality) == (
        1024,
        500,
        1000,
        90,
    )
    assert config.remove_frames is True and config.redis_url is None
    assert config.images_store == "images"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLICKR_API_CALLS_PER_HOUR", "0"),
        ("FLICKR_API_CALLS_PER_HOUR", "lots"),
        ("FLICKR_SIZES", "l,x"),
        ("FLICKR_SIZES", ""),
        ("FLICKR_MAX_SIDE", "-1"),
        ("FLICKR_MIN_SIDE", "5000"),
        ("FLICKR_SHARD_SIZE", "0"),
        ("FLICKR_JPEG_QUALITY", "101"),
        ("FLICKR_API_URL", "ftp://x/"),
        ("FLICKR_REDIS_URL", "http://localhost"),
        ("FLICKR_IMAGE_HOSTS", "evil host"),
    ],
)
def test_bad_settings_name_the_culprit(name, value):
    with pytest.raises(ConfigError) as info:
        make(**{name: value})
    message = str(info.value)
    assert name in message and "\n" not in message


def test_host_allowlist():
    config = make(FLICKR_IMAGE_HOSTS="live.staticflickr.com,farm*.staticflickr.com,127.0.0.1:8080")
    assert config.host_allowed("https://live.staticflickr.com/65535/1_a_b.jpg")
    assert config.host_allowed("https://farm3.staticflickr.com/1/1_a_b.jpg")
    assert config.host_allowed("http://127.0.0.1:8080/img/1_a_b.jpg")
    assert not config.host_allowed("http://127.0.0.1:9090/img/1_a_b.jpg")
    assert not config.host_allowed("http://127.0.0.2:8080/img/1_a_b.jpg")
    assert not config.host_allowed("file:///etc/passwd")
    assert not config.host_allowed("https://evil.example/live.staticflickr.com/x.jpg")

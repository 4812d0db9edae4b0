"""A local, deterministic stand-in for Flickr's REST API and image host.

    python -m flickrspider.emulator [--host 127.0.0.1] [--port 0] [--keywords a,b] [--photos N]
        [--seed S] [--keys K1,K2] [--config FILE] [--cache-dir DIR]

prints ``http://127.0.0.1:PORT/`` as its first stdout line and serves until
SIGINT/SIGTERM. In Python: ``EmulatorProcess`` (the CLI as a subprocess),
``Corpus`` (the same searches in-process) and ``EmulatorConfig``.

Routes: ``/services/rest/`` (``flickr.photos.search``, ``flickr.test.echo``;
GET or POST; ``format=json`` with or without ``nojsoncallback=1``, or REST XML),
``/img/<server>/<id>_<secret>[_<suffix>].<ext>`` (the image host), and the
control routes ``/_emulator/truth?<search args>``, ``/_emulator/photo/<id>``,
``/_emulator/stats``, ``POST /_emulator/reset``, ``GET|POST /_emulator/config``.

Config file (JSON object; every key optional; CLI flags override)
------------------------------------------------------------------
Corpus (fixed when the emulator starts):

- ``seed`` (0): everything derives from it; same config, same corpus.
- ``keywords`` ({"paris": 1000, "tokyo": 1000, "new york": 1000}): keyword -> photos
  (a list or comma string gives 1000 each). ``shared`` of them also carry a second keyword.
- ``start`` (2004-02-01), ``end`` (2025-01-01): upload span; unix seconds or
  ``YYYY-MM-DD[ HH:MM:SS]`` UTC. Fixed, never "now".
- ``growth`` (0.2): the upload rate grows by e**growth per year.
- ``burst_share`` (0.05): share of photos uploaded in random bursts (hundreds to
  thousands within minutes).
- ``bursts`` ([]): explicit bursts, ``{"keyword": "paris", "count": 4500, "at":
  "2015-06-01 12:00:00", "seconds": 1}`` -- e.g. more than 4,000 photos in one second.
- ``shared`` (0.1), ``geo`` (0.7 geotagged), ``frames`` (0.15 with an artsy frame),
  ``small`` (0.08 originals with the shorter side under 500 px), ``no_large`` (0.05
  of photos over 1024 px still without Large), ``png`` (0.05), ``gif`` (0.01),
  ``videos`` (0.01): shares, 0..1.
- ``cap`` (4000): results reachable per query.
- ``keys`` ([]): accepted API keys; empty accepts any non-empty key.
- ``cache_dir`` (none), ``image_cache`` (256): rendered images on disk / megabytes of
  them in memory.

Runtime settings (in ``"faults": {...}`` or at the top level; changeable with
``POST /_emulator/config`` or ``EmulatorProcess.configure(**settings)``):

- Transient API faults (probability per request): ``api_500``, ``api_503`` (HTML
  body), ``api_429``, ``api_105`` and ``api_201`` (``stat=fail`` with that code,
  HTTP 200), ``api_html_200``, ``api_html_502`` (an HTML error page), ``api_truncated``
  (JSON cut in half, HTTP 200), ``api_slow`` (answered after ``slow_seconds``).
- Transient image faults: ``img_503``, ``img_truncated`` (body cut in half, HTTP 200),
  ``img_html`` (an HTML page with HTTP 200), ``img_slow``.
- Permanent, per photo (deterministic share of photos): ``img_missing`` (every image
  answers 404), ``img_offhost`` (url_l and url_o point to ``http://127.0.0.2:<port>/``,
  where nothing listens).
- ``slow_seconds`` (30), ``fault_max_attempts`` (3): a URL fails at most this many
  times; faults are decided per (URL without api_key and cache busters, attempt
  number) with a seeded hash, so retries eventually succeed and reruns repeat.
- ``total_error`` (0), ``total_error_min`` (1000): ``total`` is off by up to this
  relative error, deterministically per query, for true totals of at least the minimum.
- ``rate_limit_calls`` (0 = off), ``rate_limit_window`` (3600 s): per API key;
  over it the API answers HTTP 429 with Retry-After.
- ``mixed_types`` (0): share of numeric fields sent as string or number the other
  way round, as Flickr's JSON has done. ``api_latency`` (0 s): delay of every API answer.

Fault kind names in ``stats()["faults"]`` are the setting names above
(``img_offhost`` counts photos answered with off-host URLs). Flickr behaviours
modelled, with their sources, are documented where they are decided: corpus.py
(the 4,000 cap, repeated pages, approximate totals), query.py (arguments,
per_page limits, errors 1 and 3, geo queries), records.py (field types, sizes),
answer.py (formats, error codes), faults.py (retry semantics).
"""

from __future__ import annotations

from flickrspider.emulator.config import EmulatorConfig, RuntimeSettings
from flickrspider.emulator.corpus import Corpus
from flickrspider.emulator.process import EmulatorError, EmulatorProcess

__all__ = ["Corpus", "EmulatorConfig", "EmulatorError", "EmulatorProcess", "RuntimeSettings"]

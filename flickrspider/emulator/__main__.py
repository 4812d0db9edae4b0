"""``python -m flickrspider.emulator``: serve a synthetic Flickr until SIGINT or SIGTERM.

The first stdout line is the base URL (``http://127.0.0.1:PORT/``), flushed as
soon as the server accepts connections; nothing else goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from pathlib import Path

from aiohttp import web

from flickrspider.emulator.config import DEFAULT_PHOTOS, EmulatorConfig
from flickrspider.emulator.corpus import Corpus
from flickrspider.emulator.server import Emulator, make_app

logger = logging.getLogger("flickrspider.emulator")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m flickrspider.emulator", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--keywords", help="comma-separated keywords of the corpus")
    parser.add_argument(
        "--photos", type=int, help=f"photos per keyword (default: {DEFAULT_PHOTOS})"
    )
    parser.add_argument("--seed", type=int, help="corpus seed (default: 0)")
    parser.add_argument(
        "--keys", help="comma-separated accepted API keys (default: any non-empty key)"
    )
    parser.add_argument(
        "--config", type=Path, help="JSON file: corpus, faults and quirks (flags override it)"
    )
    parser.add_argument("--cache-dir", help="keep rendered images in this directory too")
    return parser.parse_args(argv)


def build_config(opts: argparse.Namespace) -> EmulatorConfig:
    """The config file (if any) with the command-line flags on top."""
    data = json.loads(opts.config.read_text(encoding="utf-8")) if opts.config else {}
    if not isinstance(data, dict):
        raise ValueError(f"--config {opts.config}: the file must hold a JSON object")
    config = EmulatorConfig.from_dict(data)
    keywords = dict(config.keywords)
    if opts.keywords is not None:
        names = [k.strip() for k in opts.keywords.split(",") if k.strip()]
        keywords = {k: keywords.get(k, DEFAULT_PHOTOS) for k in names}
    if opts.photos is not None:
        keywords = dict.fromkeys(keywords, opts.photos)
    bursts = tuple(b for b in config.bursts if b.keyword in keywords)  # of keywords still there
    return config.with_overrides(
        bursts=bursts, keywords=keywords, seed=opts.seed, keys=opts.keys, cache_dir=opts.cache_dir
    )


async def serve(config: EmulatorConfig, host: str, port: int) -> None:
    """Build the corpus, listen, print the URL, and wait for a stop signal."""
    began = time.perf_counter()
    stop = asyncio.Event()  # handlers first: a signal right after the URL line must stop us cleanly
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    corpus = Corpus(config)
    emulator = Emulator(corpus)
    runner = web.AppRunner(
        make_app(emulator), access_log=None, handle_signals=False, shutdown_timeout=0.5
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []  # the bound port, when 0 was asked for
    bound = sockets[0].getsockname()[1] if sockets else port
    url = f"http://[{host}]:{bound}/" if ":" in host else f"http://{host}:{bound}/"
    corpus.base_url = url
    print(url, flush=True)
    logger.info("%d photos in %.1fs; serving at %s", len(corpus), time.perf_counter() - began, url)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="emulator: %(message)s")
    opts = parse_args(argv)
    try:
        config = build_config(opts)
    except (OSError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(config, opts.host, opts.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())

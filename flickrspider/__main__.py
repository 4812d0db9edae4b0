"""``python -m flickrspider demo | meta FILE.jpg | report IMAGES_STORE [-o report.html]``."""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "demo": "flickrspider.demo",
    "meta": "flickrspider.meta",
    "report": "flickrspider.report",
}

USAGE = """usage: python -m flickrspider COMMAND [ARGS]

commands:
  demo [--out DIR]                      crawl a local Flickr emulator into ./demo_output (offline)
  meta FILE.jpg                         print the JSON metadata stored in a downloaded JPEG
  report IMAGES_STORE [-o report.html]  write an HTML report of a dataset

The crawls themselves are Scrapy commands: scrapy crawl flickr -a keywords=...
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"flickrspider: unknown command {command!r} (try --help)", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command])
    return int(module.main(rest))


if __name__ == "__main__":
    sys.exit(main())

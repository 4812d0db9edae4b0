"""``python -m flickrspider meta FILE.jpg``: print the metadata stored in a JPEG.

Prints the JSON of the image's comment, indented, as UTF-8. A missing file, a
file that is not a JPEG, or a JPEG without our comment is a one-line error on
stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys

from flickrspider.jpegmeta import NoMetadata, NotJpeg, read_metadata


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m flickrspider meta",
        description="Print the JSON metadata that flickrspider stored in a JPEG.",
    )
    parser.add_argument("file", help="a JPEG written by flickrspider")
    args = parser.parse_args(argv)
    try:
        meta = read_metadata(args.file)
    except FileNotFoundError:
        return _fail(f"{args.file}: no such file")
    except IsADirectoryError:
        return _fail(f"{args.file}: is a directory")
    except OSError as exc:
        return _fail(f"{args.file}: {exc.strerror or exc}")
    except NotJpeg as exc:
        return _fail(f"{args.file}: not a JPEG ({exc})")
    except NoMetadata as exc:
        return _fail(f"{args.file}: no flickrspider metadata ({exc})")
    text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()
    return 0


def _fail(message: str) -> int:
    print(f"flickrspider meta: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

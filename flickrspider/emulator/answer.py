"""Encoding answers as Flickr does: JSON, JSONP (``jsonFlickrApi(...)``) and REST XML.

- ``format=json`` answers ``jsonFlickrApi({...})`` unless ``nojsoncallback=1``;
  ``jsoncallback=name`` renames the wrapper (Flickr's "JSON Response Format" page).
- No ``format`` (or ``format=rest``) answers XML: ``<rsp stat="ok">`` with the
  same data, scalar fields as attributes, ``{"_content": ...}`` as element text.
- Flickr's JSON escapes ``/`` as ``\\/`` (PHP's json_encode) and non-ASCII as ``\\uXXXX``.
- Failures are ``{"stat": "fail", "code": N, "message": "..."}`` with HTTP 200.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FORMATS = ("json", "rest")
_CALLBACK_RE = re.compile(r"^[A-Za-z_$][\w$.]*$")
# Messages as Flickr words them (method reference "Error Codes"; the 105 text is
# from Flickr's outage notice of 2013: "105: Service currently unavailable (Site Disabled)").
MESSAGES = {
    100: "Invalid API Key (Key not found)",
    105: "Service currently unavailable",
    111: 'Format "{}" not found',
    112: 'Method "{}" not found',
    # 201 is not in the method reference; the project spec lists it as a temporary
    # failure to back off on, so it is answered like 105.
    201: "Sorry, the Flickr API service is not currently available.",
}
HTML_ERROR = (
    '<!DOCTYPE html>\n<html lang="en-us"><head><meta charset="utf-8">'
    '<title>Flickr: Something went wrong</title></head>\n<body><div class="error">'
    "<h1>Flickr is having a massage.</h1><p>Please try again in a moment.</p>"
    "</div></body></html>\n"
)
# Fields Flickr has been seen sending as a string in one answer and a number in
# another ("total": "234" in shoya123/vue-vuex-flickr-demo tests/unit/mock-data.js;
# "height_q"=>"150" next to "height_sq"=>75 in janko/flickrie test/client_fixtures.rb;
# "latitude": -8.698568 next to "longitude": "115.162478" in a 2013 answer quoted in
# a learning-compojure controller); the mixed_types quirk flips them.
MIXED_PAGE_FIELDS = ("pages", "perpage", "total")
MIXED_PHOTO_FIELDS = frozenset(
    """farm license o_width o_height views latitude longitude accuracy datetakengranularity
    datetakenunknown iconfarm""".split()  # noqa: SIM905
)


def fail(code: int, message: str | None = None) -> dict[str, Any]:
    return {"stat": "fail", "code": code, "message": message or MESSAGES.get(code, "Unknown error")}


def echo(params: dict[str, str]) -> dict[str, Any]:
    """``flickr.test.echo``: every argument back as ``{"_content": value}``."""
    return {**{name: {"_content": value} for name, value in params.items()}, "stat": "ok"}


def encode(answer: dict[str, Any], params: dict[str, str]) -> tuple[str, str]:
    """(body, content type) for ``answer`` in the format the arguments ask for."""
    fmt = params.get("format", "rest") or "rest"
    if fmt == "json":
        body = json.dumps(answer, separators=(",", ":")).replace("/", "\\/")
        if params.get("nojsoncallback", "") in ("1", "true"):
            return body, "application/json"
        callback = params.get("jsoncallback", "jsonFlickrApi")
        callback = callback if _CALLBACK_RE.match(callback) else "jsonFlickrApi"
        return f"{callback}({body})", "text/javascript"
    return to_xml(answer), "text/xml"


def to_xml(answer: dict[str, Any]) -> str:
    """Flickr's REST XML for an answer dict."""
    head = '<?xml version="1.0" encoding="utf-8" ?>\n'
    if answer.get("stat") == "fail":
        msg = quoteattr(str(answer["message"]))
        return f'{head}<rsp stat="fail">\n\t<err code="{answer["code"]}" msg={msg} />\n</rsp>\n'
    inner = "".join(_element(name, value) for name, value in answer.items() if name != "stat")
    return f'{head}<rsp stat="ok">\n{inner}</rsp>\n'


def _element(name: str, value: Any) -> str:
    if isinstance(value, list):
        return "".join(_element(name, item) for item in value)
    if not isinstance(value, dict):
        return f"<{name}>{escape(_text(value))}</{name}>\n"
    if set(value) == {"_content"}:
        return f"<{name}>{escape(_text(value['_content']))}</{name}>\n"
    attrs = "".join(
        f" {k}={quoteattr(_text(v))}" for k, v in value.items() if not isinstance(v, dict | list)
    )
    children = "".join(_element(k, v) for k, v in value.items() if isinstance(v, dict | list))
    return f"<{name}{attrs}>\n{children}</{name}>\n" if children else f"<{name}{attrs} />\n"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _flip(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d+", value):
        return float(value)
    return value


def _hit(rate: float, *parts: object) -> bool:
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2**32 < rate


def mix_types(answer: dict[str, Any], rate: float, salt: int) -> None:
    """Flip some numeric fields between string and number, deterministically (quirk)."""
    photos = answer.get("photos")
    if rate <= 0 or not isinstance(photos, dict):
        return
    for name in MIXED_PAGE_FIELDS:
        if _hit(rate, salt, photos.get("page"), name):
            photos[name] = _flip(photos[name])
    for photo in photos.get("photo", []):
        for name in list(photo):
            eligible = name in MIXED_PHOTO_FIELDS or name.startswith(("height_", "width_"))
            if eligible and _hit(rate, salt, photo["id"], name):
                photo[name] = _flip(photo[name])

"""Words for titles, descriptions and tags; Flickr-style text and tag normalisation."""

from __future__ import annotations

import re

# Filler words: what photographers write around a place name. Some are the
# original code's negative terms (birthday, wedding, ...) so negatives matter.
FILLERS = tuple(
    """
    sunset sunrise night street city old town river bridge church cathedral tower park
    garden square market museum station train bus car bike boat harbour beach sea lake
    mountain hill view skyline panorama architecture building house door window wall roof
    sky clouds rain snow winter summer spring autumn fall light shadow reflection water
    tree flowers green blue red yellow travel holiday vacation trip tourism tourist walk
    people crowd festival parade food cafe restaurant bar shop sign graffiti art statue
    monument castle palace temple garden fountain canal street lamp evening morning day
    dusk dawn fog mist storm sun moon stars lights neon traffic road path stairs gate
    wedding birthday portrait abstract macro fun kid child children prom concert baby
    live family friends party dog cat bird birds horse animal zoo nature landscape
    canon nikon sony fuji iphone film analog 35mm digital hdr longexposure blackandwhite
    bw monochrome vintage retro urban rural countryside village farm field forest
    """.split()  # noqa: SIM905
)

NAME_SYLLABLES = ("ka", "lo", "mi", "ra", "sen", "tu", "vel", "do", "an", "ri", "co", "ma", "zu")

# Centres of a few well-known places (lat, lon), keyed by normalised tag.
CITIES = {
    "paris": (48.8566, 2.3522),
    "london": (51.5074, -0.1278),
    "newyork": (40.7128, -74.006),
    "tokyo": (35.6762, 139.6503),
    "sãopaulo": (-23.5505, -46.6333),
    "saopaulo": (-23.5505, -46.6333),
    "rome": (41.9028, 12.4964),
    "berlin": (52.52, 13.405),
    "sydney": (-33.8688, 151.2093),
    "cairo": (30.0444, 31.2357),
    "oslo": (59.9139, 10.7522),
    "argentina": (-34.6037, -58.3816),
    "sanfrancisco": (37.7749, -122.4194),
}

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Case-folded word tokens, as the text search matches them."""
    return _TOKEN_RE.findall(text.casefold())


def normalize_tag(tag: str) -> str:
    """Flickr's normalised tag: case-folded, with spaces and punctuation removed."""
    return "".join(tokens(tag))


def title_case(words: list[str]) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in words)

"""Frame removal benchmark: our detector against the original ring test.

Samples photos from the emulator's corpus (``flickrspider.emulator.Corpus``: the
same frames, frame share and image sizes a crawl meets), takes the image the
crawl would store (Large, else the original shrunk to 1024 px; only images
whose shorter side reaches ``--min-side``, as smaller ones are discarded), and
reports for each detector:

- framed photos whose border is fully removed while losing at most 2% of the
  picture beyond it (also: fully removed at any loss, and mean picture loss);
- unframed photos cropped at all;
- milliseconds per image: detection alone on the decoded 1024 px image, and for
  ``imaging.process`` the whole path from JPEG bytes (reduced-scale decode,
  detection, and for framed photos full decode, crop and re-encode).

Framed photos are over-sampled (``--framed-share``, default half) so both rates
rest on enough photos; the emulator itself frames 15%.

Usage: ``.venv/bin/python benchmarks/frames.py [--photos N] [--seed S]``
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flickrspider.emulator.config import EmulatorConfig
from flickrspider.emulator.corpus import Corpus
from flickrspider.frames import Box, detect_frame, original_ring_test, to_gray
from flickrspider.imagerules import ImageRules
from flickrspider.imaging import process

MAX_SIDE = 1024
MAX_LOSS = 0.02
RULES = ImageRules(max_side=MAX_SIDE, min_side=1)


@dataclass
class Sample:
    """One stored-size image (pixels and JPEG) and its true border in its pixels."""

    photo_id: str
    rgb: np.ndarray
    jpeg: bytes
    truth: Box | None


@dataclass
class Tally:
    """Scores of one detector."""

    framed: int = 0
    removed: int = 0
    removed_any: int = 0
    loss: list[float] = field(default_factory=list)
    unframed: int = 0
    false_crops: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)
    false_ids: list[str] = field(default_factory=list)

    def add(self, sample: Sample, box: Box | None, seconds: float) -> None:
        self.seconds += seconds
        got = box or (0, 0, 0, 0)
        if sample.truth is None:
            self.unframed += 1
            if any(got):
                self.false_crops += 1
                self.false_ids.append(sample.photo_id)
            return
        self.framed += 1
        h, w = sample.rgb.shape[:2]
        tl, tt, tr, tb = sample.truth
        inner_w, inner_h = w - tl - tr, h - tt - tb
        # Picture kept: the crop box intersected with the true picture area.
        kept_w = max(0, min(w - got[2], w - tr) - max(got[0], tl))
        kept_h = max(0, min(h - got[3], h - tb) - max(got[1], tt))
        loss = 1.0 - kept_w * kept_h / (inner_w * inner_h)
        full = all(g >= t for g, t in zip(got, sample.truth, strict=True))
        self.loss.append(loss)
        self.removed_any += full
        if full and loss <= MAX_LOSS:
            self.removed += 1
        else:
            self.misses.append(sample.photo_id)

    def row(self, name: str) -> str:
        n = max(self.framed + self.unframed, 1)
        framed = max(self.framed, 1)
        return (
            f"{name:34}{100 * self.removed / framed:11.1f}%{100 * self.removed_any / framed:10.1f}%"
            f"{100 * float(np.mean(self.loss or [0])):10.2f}%"
            f"{100 * self.false_crops / max(self.unframed, 1):11.2f}%{1000 * self.seconds / n:10.2f}"
        )


def _stored_image(corpus: Corpus, photo_id: str) -> tuple[np.ndarray, bytes, float, float]:
    """The image a crawl keeps (Large, else the original shrunk), its JPEG, its scale."""
    rec = corpus.record(photo_id)
    suffix = "b" if "b" in rec["sizes"] else "o"
    body = corpus.render(photo_id, suffix)
    with Image.open(io.BytesIO(body)) as src:
        img = src.convert("RGB")
        if max(img.size) > MAX_SIDE or src.format != "JPEG":
            scale = min(1.0, MAX_SIDE / max(img.size))
            size = (round(img.width * scale), round(img.height * scale))
            img = img.resize(size, Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=90)
            body = buf.getvalue()
        return np.asarray(img), body, img.width / rec["o_width"], img.height / rec["o_height"]


def samples(photos: int, seed: int, framed_share: float, min_side: int) -> Iterator[Sample]:
    """Stored-size photos from a corpus, ``framed_share`` of them framed."""
    corpus = Corpus(EmulatorConfig(seed=seed, keywords={"bench": max(photos * 6, 200)}))
    table = corpus.table
    rows = [r for r in range(len(table.ids)) if not table.video[r]]
    want = {True: round(photos * framed_share), False: photos - round(photos * framed_share)}
    for row in rows:
        framed = bool(table.framed[row])
        if not want[framed]:
            if not any(want.values()):
                return
            continue
        pid = str(table.ids[row])
        rgb, jpeg, sx, sy = _stored_image(corpus, pid)
        if min(rgb.shape[:2]) < min_side:
            continue
        frame = corpus.record(pid)["frame"]
        truth = None
        if frame:
            ls, ts, rs, bs = frame
            truth = (round(ls * sx), round(ts * sy), round(rs * sx), round(bs * sy))
        want[framed] -= 1
        yield Sample(pid, rgb, jpeg, truth)


def _through_process(sample: Sample) -> Box | None:
    frame = process(sample.jpeg, RULES).frame
    return (frame[0], frame[1], frame[2], frame[3]) if frame else None


DETECTORS: dict[str, Callable[[Sample], Box | None]] = {
    "ours: detect_frame (1024 px)": lambda s: detect_frame(s.rgb),
    "ours: imaging.process (from JPEG)": _through_process,
    "original ring test (1024 px)": lambda s: original_ring_test(to_gray(s.rgb)),
}


def run(photos: int, seed: int, framed_share: float, min_side: int) -> dict[str, Tally]:
    tallies = {name: Tally() for name in DETECTORS}
    for sample in samples(photos, seed, framed_share, min_side):
        for name, fn in DETECTORS.items():
            t0 = time.perf_counter()
            box = fn(sample)
            tallies[name].add(sample, box, time.perf_counter() - t0)
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--framed-share", type=float, default=0.5, help="share of framed photos")
    ap.add_argument("--min-side", type=int, default=500, help="skip images the crawl discards")
    ap.add_argument("--show", action="store_true", help="list ids of misses and false crops")
    args = ap.parse_args(argv)
    tallies = run(args.photos, args.seed, args.framed_share, args.min_side)
    first = next(iter(tallies.values()))
    print(f"{first.framed} framed + {first.unframed} unframed emulator photos (seed {args.seed})\n")
    print(f"{'':34}{'de-framed':>12}{'de-framed':>11}{'mean':>11}{'unframed':>12}{'ms per':>10}")
    print(f"{'':34}{'loss<=2%':>12}{'any loss':>11}{'loss':>11}{'cropped':>12}{'image':>10}")
    for name, tally in tallies.items():
        print(tally.row(name))
        if args.show:
            print("  misses:", " ".join(tally.misses[:40]))
            print("  false crops:", " ".join(tally.false_ids[:40]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

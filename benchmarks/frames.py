"""Frame removal benchmark: our detector against the original ring test.

Samples photos from the emulator's corpus (``flickrspider.emulator.Corpus``: the
same frames, frame share and image sizes a crawl meets), takes the image the
crawl would store (Large, else the original shrunk to 1024 px), and reports for
each detector:

- framed photos whose border is fully removed while losing at most 2% of the
  picture beyond it (and fully removed at any loss, and mean picture loss);
- unframed photos cropped at all;
- milliseconds per image (detection only; the ring test on the gray image).

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

MAX_SIDE = 1024
MAX_LOSS = 0.02


@dataclass
class Sample:
    """One stored-size image and its true border in its own pixels."""

    photo_id: str
    rgb: np.ndarray
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


def _stored_image(corpus: Corpus, photo_id: str) -> tuple[np.ndarray, float, float]:
    """The image a crawl keeps (Large, else the original shrunk), with its scale."""
    rec = corpus.record(photo_id)
    suffix = "b" if "b" in rec["sizes"] else "o"
    with Image.open(io.BytesIO(corpus.render(photo_id, suffix))) as src:
        img = src.convert("RGB")
        if max(img.size) > MAX_SIDE:
            scale = MAX_SIDE / max(img.size)
            img = img.resize(
                (round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS
            )
        return np.asarray(img), img.width / rec["o_width"], img.height / rec["o_height"]


def samples(photos: int, seed: int, framed_share: float) -> Iterator[Sample]:
    """Photos from a corpus, with at least ``framed_share`` of them framed."""
    corpus = Corpus(EmulatorConfig(seed=seed, keywords={"bench": max(photos * 4, 200)}))
    table = corpus.table
    rows = [r for r in range(len(table.ids)) if not table.video[r]]
    framed = [r for r in rows if table.framed[r]]
    plain = [r for r in rows if not table.framed[r]]
    n_framed = min(len(framed), max(round(photos * framed_share), 1))
    for row in framed[:n_framed] + plain[: photos - n_framed]:
        pid = str(table.ids[row])
        rgb, sx, sy = _stored_image(corpus, pid)
        frame = corpus.record(pid)["frame"]
        truth = None
        if frame:
            ls, ts, rs, bs = frame
            truth = (round(ls * sx), round(ts * sy), round(rs * sx), round(bs * sy))
        yield Sample(pid, rgb, truth)


def run(photos: int, seed: int, framed_share: float) -> dict[str, Tally]:
    detectors: dict[str, Callable[[np.ndarray], Box | None]] = {
        "ours (detect_frame)": detect_frame,
        "original ring test": lambda rgb: original_ring_test(to_gray(rgb)),
    }
    tallies = {name: Tally() for name in detectors}
    for sample in samples(photos, seed, framed_share):
        for name, fn in detectors.items():
            t0 = time.perf_counter()
            box = fn(sample.rgb)
            tallies[name].add(sample, box, time.perf_counter() - t0)
    return tallies


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--framed-share", type=float, default=0.5, help="share of framed photos sampled"
    )
    ap.add_argument("--show", action="store_true", help="list the ids of misses and false crops")
    args = ap.parse_args(argv)
    tallies = run(args.photos, args.seed, args.framed_share)
    first = next(iter(tallies.values()))
    print(f"{first.framed} framed + {first.unframed} unframed emulator photos (seed {args.seed})\n")
    print(
        f"{'':28}{'de-framed<=2%':>15}{'de-framed':>11}{'mean loss':>11}{'false crop':>12}{'ms/image':>10}"
    )
    for name, t in tallies.items():
        n = t.framed + t.unframed
        print(
            f"{name:28}{100 * t.removed / max(t.framed, 1):14.1f}%{100 * t.removed_any / max(t.framed, 1):10.1f}%"
            f"{100 * float(np.mean(t.loss or [0])):10.2f}%{100 * t.false_crops / max(t.unframed, 1):11.1f}%"
            f"{1000 * t.seconds / max(n, 1):10.2f}"
        )
        if args.show:
            print("  misses:", " ".join(t.misses[:40]))
            print("  false crops:", " ".join(t.false_ids[:40]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

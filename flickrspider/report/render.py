"""The HTML page: one self-contained file (inline CSS, JS, SVG and data-URI thumbnails).

A Content-Security-Policy allows only the page's own style and script (by hash) and
``data:`` images, so nothing is ever fetched, and a string that escaped escaping could
still not run. Every metadata string goes through ``esc``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files

from flickrspider import __version__
from flickrspider.report import attribution, svg
from flickrspider.report.collect import Dataset
from flickrspider.report.stats import SIZE_BIN, KeywordRow, Stats
from flickrspider.report.svg import esc
from flickrspider.report.thumbs import Thumb


def _asset(name: str) -> str:
    return files("flickrspider.report").joinpath(name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _bytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:,.1f} {unit}"


def overview(dataset: Dataset, stats: Stats) -> str:
    cards: list[tuple[str, str]] = [
        ("Photos", _num(stats.photos)),
        ("Keywords", _num(len(stats.keywords))),
        ("Geotagged", f"{stats.geotagged:,} ({100 * stats.geotagged / max(stats.photos, 1):.0f}%)"),
        ("Owners", _num(stats.owners)),
    ]
    if stats.years:
        cards.append(("Uploaded", f"{min(stats.years)}\u2013{max(stats.years)}"))
    if dataset.source == "files":
        cards.append(("On disk", _bytes(stats.disk_bytes)))
    if dataset.summary and dataset.summary.api_calls is not None:
        cards.append(("API calls (last run)", _num(dataset.summary.api_calls)))
    items = "".join(f"<div class=card><b>{esc(v)}</b><span>{esc(k)}</span></div>" for k, v in cards)
    notes = []
    if dataset.unreadable:
        what = "feed lines" if dataset.source == "feed" else "JPEG files"
        notes.append(f"{dataset.unreadable:,} {what} without readable metadata were skipped.")
    if dataset.repeated:
        notes.append(f"{dataset.repeated:,} repeated photo ids were counted once.")
    if not dataset.summary:
        notes.append(
            "No run summary (.flickrspider/summary.json): stored counts come from the"
            f" {'feed' if dataset.source == 'feed' else 'files'}; found, duplicates,"
            " too small and failed are unknown."
        )
    elif dataset.summary.finished:
        notes.append(f"Last run finished {dataset.summary.finished}.")
    note_html = "".join(f"<p class=note>{esc(n)}</p>" for n in notes)
    return f'<section id="overview"><div class=cards>{items}</div>{note_html}</section>'


def keyword_table(dataset: Dataset, stats: Stats) -> str:
    """One row per keyword: the last run's numbers (summary.json) and what is in the dataset."""
    has_run = dataset.summary is not None
    columns: list[tuple[str, Callable[[KeywordRow], int | None]]] = [
        ("Found", lambda r: r.run.found if r.run else None),
        ("Stored", lambda r: r.run.stored if r.run else None if has_run else r.photos),
        ("Duplicates", lambda r: r.run.duplicates if r.run else None),
        ("Too small", lambda r: r.run.too_small if r.run else None),
        ("Failed", lambda r: sum(r.run.failed.values()) if r.run else None),
    ]
    if has_run:  # the dataset can hold more than the last run stored
        columns.append(("In dataset", lambda r: r.photos))
    columns += [("Geotagged", lambda r: r.geotagged), ("Owners", lambda r: r.owners)]
    body = []
    for row in stats.keywords:
        cells = []
        for title, get in columns:
            value = get(row)
            extra = ""
            if title == "Failed" and row.run and any(row.run.failed.values()):
                reasons = " · ".join(f"{k} {v:,}" for k, v in sorted(row.run.failed.items()) if v)
                extra = f"<small>{esc(reasons)}</small>"
            cells.append(f"<td>{_num(value)}{extra}</td>")
        body.append(f"<tr><th scope=row>{esc(row.keyword)}</th>{''.join(cells)}</tr>")
    totals = []
    for title, get in columns:
        values = [v for v in map(get, stats.keywords) if v is not None]
        # Owners can overlap between keywords: the total is the distinct count.
        total = stats.owners if title == "Owners" else sum(values) if values else None
        totals.append(f"<td>{_num(total)}</td>")
    head = "".join(f"<th scope=col>{esc(title)}</th>" for title, _ in columns)
    return (
        '<table class="keywords" id="keyword-table"><thead><tr><th scope=col>Keyword</th>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot><tr><th scope=row>Total</th>{''.join(totals)}</tr></tfoot></table>"
    )


def map_section(stats: Stats) -> str:
    counts = {keyword: len(points) for keyword, points in stats.points.items()}
    colors = svg.keyword_colors(counts)
    shown = sum(counts.values())
    legend = []
    grouped = 0
    for keyword in sorted(counts, key=lambda k: (-counts[k], k)):
        if colors[keyword] == svg.OTHER_COLOR:
            grouped += 1
            continue
        swatch = svg.swatch(colors[keyword])
        legend.append(f"<li>{swatch}{esc(keyword)} <small>{counts[keyword]:,}</small></li>")
    if grouped:
        legend.append(f"<li>{svg.swatch(svg.OTHER_COLOR)}{grouped:,} more keywords</li>")
    note = (
        f"{stats.geotagged:,} geotagged photos at {stats.distinct_points:,} distinct"
        " locations (0.01\u00b0 grid)"
    )
    if shown < stats.distinct_points:
        note += f"; a deterministic sample of {shown:,} is drawn"
    return (
        '<section id="map-section"><h2>Where the photos were taken</h2>'
        f"<p class=note>{esc(note)}. Drag to pan; use the buttons or double-click to zoom.</p>"
        '<div class="map-wrap"><div class="map-tools">'
        '<button type=button data-zoom="in" title="Zoom in">+</button>'
        '<button type=button data-zoom="out" title="Zoom out">&minus;</button>'
        '<button type=button data-zoom="reset" title="Whole world">&#x27F2;</button></div>'
        f"{svg.world_map(stats.points, colors)}</div>"
        f'<ul class="legend">{"".join(legend)}</ul></section>'
    )


def charts(stats: Stats) -> str:
    years = svg.bar_chart(
        [(str(y), n) for y, n in stats.years.items()], label="Photos per upload year"
    )
    licenses = svg.hbar_chart(
        [(row.name, row.url, row.count) for row in stats.licenses], label="Photos per license"
    )
    sizes = svg.bar_chart(
        [(f"{start}", n) for start, n in stats.short_sides.items()],
        label="Stored images by shorter side",
    )
    owners = (
        '<p class="empty">Every author has a single photo in the dataset.</p>'
        if stats.top_owners and stats.top_owners[0][2] == 1
        else svg.hbar_chart(
            [(name, attribution.people_url(owner), n) for owner, name, n in stats.top_owners],
            label="Photos per author, top 10",
            total=stats.photos,
        )
    )
    common = ", ".join(f"{dims} ({n:,})" for dims, n in stats.common_sizes)
    size_note = f"<p class=note>Most common: {esc(common)}</p>" if common else ""
    return (
        '<section id="charts"><h2>The photos</h2><div class="grid">'
        f'<figure id="chart-years"><figcaption>Upload year</figcaption>{years}</figure>'
        f'<figure id="chart-licenses"><figcaption>License</figcaption>{licenses}</figure>'
        f'<figure id="chart-sizes"><figcaption>Stored size: shorter side, {SIZE_BIN} px bins'
        f"</figcaption>{sizes}{size_note}</figure>"
        f'<figure id="chart-owners"><figcaption>Top authors <small>(share of all photos)'
        f"</small></figcaption>{owners}</figure></div></section>"
    )


def contact_sheets(stats: Stats, thumbs: dict[str, Thumb], counts: dict[str, int]) -> str:
    parts = []
    for keyword, photos in stats.samples.items():
        cells = []
        for photo in photos:
            thumb = thumbs.get(photo.path or "")
            if thumb is None:
                continue
            uri, width, height = thumb
            text = esc(attribution.caption(photo))
            cells.append(
                f'<a href="{esc(attribution.photo_url(photo))}" target="_blank" rel="noopener"'
                f' title="{text}"><img src="{uri}" width="{width}" height="{height}" alt="{text}"'
                ' decoding="async"></a>'
            )
        if cells:
            parts.append(
                f"<h3>{esc(keyword)} <small>{len(cells)} of {counts.get(keyword, 0):,}</small></h3>"
                f'<div class="sheet">{"".join(cells)}</div>'
            )
    body = "".join(parts) or '<p class="empty">No image files to show.</p>'
    return f'<section id="samples"><h2>Samples</h2>{body}</section>'


def attribution_section(stats: Stats, shown_ids: set[str], blob: str) -> str:
    shown = [p for photos in stats.samples.values() for p in photos if p.id in shown_ids]
    return (
        '<section id="attribution"><h2>Attribution</h2>'
        "<p class=note>Photos are by their Flickr authors, under the licenses named below;"
        " reuse must credit the author and link the license.</p>"
        f'<details id="shown"><summary>The {len(shown):,} photos shown on this page</summary>'
        f"{attribution.shown_table(shown)}</details>"
        f'<details id="all-attribution"><summary>All {stats.photos:,} photos of the dataset'
        "</summary><div class=attr-tools><input type=search id=attr-filter placeholder="
        '"Filter by title, author, keyword, license" aria-label="Filter">'
        "<button type=button id=attr-tsv>Download TSV</button></div>"
        '<div id="attr-list"><p class="note">Open to load the list.</p></div>'
        "<noscript><p>The full list needs JavaScript.</p></noscript></details>"
        f'<script type="application/octet-stream" id="attribution-data">{blob}</script>'
        "</section>"
    )


def page(dataset: Dataset, stats: Stats, thumbs: dict[str, Thumb]) -> str:
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; img-src data:; style-src '{_sha256(css)}'; "
        f"script-src '{_sha256(js)}'; base-uri 'none'; form-action 'none'"
    )
    counts = {row.keyword: row.photos for row in stats.keywords}
    shown_ids = {
        p.id for photos in stats.samples.values() for p in photos if (p.path or "") in thumbs
    }
    name = dataset.store.resolve().name or str(dataset.store)
    source = "feed" if dataset.source == "feed" else "JPEG comments"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="generator" content="flickrspider {esc(__version__)}">'
        f"<title>flickrspider report: {esc(name)}</title>"
        f'<link rel="icon" href="data:,"><style>{css}</style></head><body>'
        f"<header><h1>Dataset report: {esc(name)}</h1><p class=meta>{esc(dataset.store)} · "
        f"read from {source} · generated {generated} by flickrspider {esc(__version__)}</p>"
        '<nav><a href="#keywords">Keywords</a><a href="#map-section">Map</a>'
        '<a href="#charts">Charts</a><a href="#samples">Samples</a>'
        '<a href="#attribution">Attribution</a></nav></header><main>'
        f"{overview(dataset, stats)}"
        f'<section id="keywords"><h2>Keywords</h2>{keyword_table(dataset, stats)}</section>'
        f"{map_section(stats)}{charts(stats)}{contact_sheets(stats, thumbs, counts)}"
        f"{attribution_section(stats, shown_ids, attribution.encode_all(dataset.photos))}"
        "</main><footer>Coastline: Natural Earth 1:110m land, public domain.</footer>"
        f"<script>{js}</script></body></html>\n"
    )

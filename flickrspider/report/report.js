// flickrspider report: map zoom and pan, and the paged attribution list.
// Everything from the dataset is inserted with textContent, never as HTML.
(() => {
  "use strict";

  // ---- map: the viewBox is the projection (degrees), so zooming is changing it.
  const map = document.getElementById("map");
  if (map) {
    const world = { x: -180, y: -90, w: 360, h: 180 };
    let view = { ...world };
    const apply = () => {
      view.w = Math.min(world.w, Math.max(world.w / 64, view.w));
      view.h = view.w / 2;
      view.x = Math.min(world.x + world.w - view.w, Math.max(world.x, view.x));
      view.y = Math.min(world.y + world.h - view.h, Math.max(world.y, view.y));
      map.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    };
    const zoom = (factor, cx, cy) => {
      const w = Math.min(world.w, Math.max(world.w / 64, view.w / factor));
      const k = w / view.w;
      view = { x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w, h: w / 2 };
      apply();
    };
    const toUser = (event) => {
      const box = map.getBoundingClientRect();
      return {
        x: view.x + ((event.clientX - box.left) / box.width) * view.w,
        y: view.y + ((event.clientY - box.top) / box.height) * view.h,
      };
    };
    for (const button of document.querySelectorAll("[data-zoom]")) {
      button.addEventListener("click", () => {
        const how = button.dataset.zoom;
        if (how === "reset") {
          view = { ...world };
          apply();
        } else {
          zoom(how === "in" ? 2 : 0.5, view.x + view.w / 2, view.y + view.h / 2);
        }
      });
    }
    map.addEventListener("dblclick", (event) => {
      const at = toUser(event);
      zoom(event.shiftKey ? 0.5 : 2, at.x, at.y);
      event.preventDefault();
    });
    let drag = null;
    map.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, view: { ...view } };
      map.setPointerCapture(event.pointerId);
      map.classList.add("dragging");
    });
    map.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const box = map.getBoundingClientRect();
      view.x = drag.view.x - ((event.clientX - drag.x) / box.width) * view.w;
      view.y = drag.view.y - ((event.clientY - drag.y) / box.height) * view.h;
      apply();
    });
    const stop = () => {
      drag = null;
      map.classList.remove("dragging");
    };
    map.addEventListener("pointerup", stop);
    map.addEventListener("pointercancel", stop);
  }

  // ---- attribution: base64(gzip(columnar JSON)), decoded on first use.
  const details = document.getElementById("all-attribution");
  const holder = document.getElementById("attr-list");
  const blob = document.getElementById("attribution-data");
  if (!details || !holder || !blob) return;
  const PAGE = 100;
  const enc = (text) => encodeURIComponent(text).replace(/%40/g, "@");
  let data = null;
  let loading = null;
  let matches = [];
  let page = 0;

  const load = () => {
    if (!loading) {
      loading = (async () => {
        const bytes = Uint8Array.from(atob(blob.textContent.trim()), (c) => c.charCodeAt(0));
        const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
        data = JSON.parse(await new Response(stream).text());
        matches = data.id.map((_, i) => i);
      })();
    }
    return loading;
  };

  const row = (i) => {
    const owner = data.owners[data.o[i]];
    const license = data.licenses[data.l[i]];
    return {
      title: data.t[i].trim() || "Untitled",
      photo: `https://www.flickr.com/photos/${enc(owner)}/${enc(data.id[i])}`,
      author: data.names[data.o[i]] || owner,
      authorUrl: `https://www.flickr.com/people/${enc(owner)}/`,
      license: license[0],
      licenseUrl: license[1].startsWith("https://") ? license[1] : "",
      keyword: data.keywords[data.k[i]],
    };
  };

  const cell = (text, href) => {
    const td = document.createElement("td");
    if (href) {
      const a = document.createElement("a");
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = text;
      td.append(a);
    } else {
      td.textContent = text;
    }
    return td;
  };

  const button = (label, enabled, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.disabled = !enabled;
    b.addEventListener("click", onClick);
    return b;
  };

  const render = () => {
    const pages = Math.max(1, Math.ceil(matches.length / PAGE));
    page = Math.min(page, pages - 1);
    const table = document.createElement("table");
    table.className = "attribution";
    table.id = "all-attribution-table";
    const head = table.createTHead().insertRow();
    for (const name of ["Photo", "Author", "License", "Keyword"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.append(th);
    }
    const body = table.createTBody();
    for (const i of matches.slice(page * PAGE, (page + 1) * PAGE)) {
      const r = row(i);
      const tr = body.insertRow();
      tr.append(cell(r.title, r.photo), cell(r.author, r.authorUrl));
      tr.append(cell(r.license, r.licenseUrl), cell(r.keyword));
    }
    const pager = document.createElement("div");
    pager.className = "pager";
    const first = matches.length ? page * PAGE + 1 : 0;
    const last = Math.min(matches.length, (page + 1) * PAGE);
    const status = document.createElement("span");
    status.textContent = `${first.toLocaleString()}–${last.toLocaleString()} of ${matches.length.toLocaleString()}`;
    pager.append(
      button("‹ Previous", page > 0, () => { page -= 1; render(); }),
      status,
      button("Next ›", page < pages - 1, () => { page += 1; render(); }),
    );
    holder.replaceChildren(pager, table);
  };

  const show = async () => {
    try {
      await load();
      render();
    } catch (error) {
      holder.textContent = `The list could not be decoded in this browser (${error}).`;
    }
  };
  details.addEventListener("toggle", () => {
    if (details.open) show();
  });

  const filter = document.getElementById("attr-filter");
  filter?.addEventListener("input", async () => {
    await load();
    const needle = filter.value.trim().toLowerCase();
    matches = [];
    for (let i = 0; i < data.id.length; i += 1) {
      const r = needle ? row(i) : null;
      if (!r || `${r.title}\t${r.author}\t${r.keyword}\t${r.license}`.toLowerCase().includes(needle)) {
        matches.push(i);
      }
    }
    page = 0;
    render();
  });

  document.getElementById("attr-tsv")?.addEventListener("click", async () => {
    await load();
    const clean = (text) => String(text).replace(/[\t\r\n]+/g, " ");
    const lines = ["title\tauthor\tauthor_url\tphoto_url\tlicense\tlicense_url\tkeyword"];
    for (let i = 0; i < data.id.length; i += 1) {
      const r = row(i);
      lines.push([r.title, r.author, r.authorUrl, r.photo, r.license, r.licenseUrl, r.keyword].map(clean).join("\t"));
    }
    const url = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/tab-separated-values" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "attribution.tsv";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
})();

"""A tiny HTTP forward proxy for tests, on loopback: ``python -m tests.forward_proxy``.

    python -m tests.forward_proxy [--die-after N]

Prints its URL (``http://127.0.0.1:PORT``) as the first stdout line, then one line
per request it relays (``relayed METHOD URL STATUS``; never a body, so never an API
key). It forwards absolute-form ``http://`` requests to loopback hosts only, one
request per client connection. With ``--die-after N`` it takes N requests and dies on
the next one (``os._exit``): requests still in flight are cut, later ones refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


class Proxy:
    def __init__(self, die_after: int | None) -> None:
        self.die_after = die_after
        self.accepted = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        self.accepted += 1
        if self.die_after is not None and self.accepted > self.die_after:
            print("dying", flush=True)
            os._exit(0)  # requests still being relayed are cut off
        lines = head.split(b"\r\n")
        method, url, _ = lines[0].decode("latin-1").split(" ", 2)
        headers = [line.split(b":", 1) for line in lines[1:] if b":" in line]
        length = next((int(v) for k, v in headers if k.strip().lower() == b"content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            writer.close()
            return
        upstream_r, upstream_w = await asyncio.open_connection(parts.hostname, parts.port or 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        out = [f"{method} {path} HTTP/1.1".encode()]
        out += [k + b":" + v for k, v in headers if k.strip().lower() not in HOP_BY_HOP]
        out.append(b"Connection: close")
        upstream_w.write(b"\r\n".join(out) + b"\r\n\r\n" + body)
        await upstream_w.drain()
        answer = await upstream_r.read()  # Connection: close, so the answer ends at EOF
        upstream_w.close()
        status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "?"
        print(f"relayed {method} {url} {status}", flush=True)
        writer.write(answer)
        await writer.drain()
        writer.close()


async def serve(die_after: int | None) -> None:
    proxy = Proxy(die_after)
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--die-after", type=int, default=None, help="take N requests, then die")
    opts = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(opts.die_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The guarded outbound client: vetting, pinning, redirects and limits.

Real HTTP servers on 127.0.0.1 count every accepted connection, so "refused" means no
connection was made at all. Hostile targets outside loopback are never contacted: those
tests pass a network backend that fails the test if it is ever asked to connect, and a
resolver that answers from a table (no real DNS lookup happens in this file).
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Self

import httpcore
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.x509.oid import NameOID

from ddsnode import outbound
from ddsnode.outbound import OutboundClient, OutboundRefused, PeerError, blocked_reason
from ddsnode.problem import problem_body

JSONLD = "application/ld+json"


@dataclass
class Seen:
    """One request as the test server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A tiny HTTP/1.1 server on 127.0.0.1 that counts connections and records requests."""

    handler: Callable[[Seen], Answer | Awaitable[Answer]]
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    tls: ssl.SSLContext | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                method, target, _ = head[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip()
                           for k, _, v in (line.partition(":") for line in head[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, target, headers, body)
                self.requests.append(seen)
                answer = self.handler(seen)
                status, out_headers, out_body = (await answer if asyncio.iscoroutine(answer)
                                                 else answer)  # type: ignore[misc]
                out_headers = {"content-length": str(len(out_body)), **out_headers}
                lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in out_headers.items()]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + out_body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()


def ok(body: bytes = b'{"@id": "x"}', media_type: str = JSONLD) -> Callable[[Seen], Answer]:
    return lambda seen: (200, {"content-type": media_type}, body)


class ForbiddenBackend(httpcore.AsyncNetworkBackend):
    """A network backend that records and refuses every connection attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        self.attempts.append((host, port))
        raise AssertionError(f"the client tried to connect to {host}:{port}")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Real connections, with a record of the address each one went to."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        return await self.inner.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class TableResolver:
    """A resolver answering from a table; unknown names fail like NXDOMAIN."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"no such host {host}")
        return self.table[host]


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


# -- refused before any connection ---------------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[0:0:0:0:0:ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    "http://localhost:{port}/",
    "http://LOCALHOST.:{port}/",
    "http://api.localhost:{port}/",
    "http://user:pw@127.0.0.1:{port}/",
    "ftp://127.0.0.1:{port}/",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
def test_loopback_in_any_spelling_is_refused_without_a_connection(template: str) -> None:
    async def main() -> None:
        async with Server(ok()) as server, OutboundClient() as client:
            with pytest.raises(OutboundRefused) as caught:
                await client.fetch(template.format(port=server.port), accept=[JSONLD])
            assert server.connections == 0
            assert caught.value.url.startswith(template.split(":", 1)[0])
            assert caught.value.status == 422
    run(main())


HOSTILE = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://0.0.0.0/", "this network"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://224.0.0.1/", "multicast"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[64:ff9b::7f00:1]/", "embeds 127.0.0.1"),
    ("http://[64:ff9b::a9fe:a9fe]/", "embeds 169.254.169.254"),
    ("http://[64:ff9b:1::1]/", "NAT64"),
    ("http://[2002:7f00:1::]/", "embeds 127.0.0.1"),
    ("http://[2002:a00:1::1]/", "embeds 10.0.0.1"),
    ("http://[2001::1]/", "Teredo"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[fc00::1]/", "unique local"),
    ("http://[fd12:3456::1]/", "unique local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[::]/", "unspecified"),
    ("http://[fe80::1%25eth0]/", "zone"),
    ("http://0x0a000001/", "non-canonical"),
    ("http://012.0.0.1/", "non-canonical"),
    ("http://10.1/", "non-canonical"),
    ("http://1.2.3.4.5/", "non-canonical"),
    ("http://metadata.example/", "link-local"),        # a name resolving to metadata
    ("http://mixed.example/", "private"),              # one bad address among good ones
    ("http://rebind.example/", "loopback"),            # a public name pointing at loopback
    ("http://mapped.example/", "IPv4-mapped"),
    ("https://user@public.example/", "userinfo"),
    ("gopher://public.example/", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("//public.example/", "scheme"),
]
NAMES = {"metadata.example": ["169.254.169.254"],
         "mixed.example": ["93.184.216.34", "10.1.2.3"],
         "rebind.example": ["127.0.0.1"],
         "mapped.example": ["::ffff:10.0.0.1"],
         "public.example": ["93.184.216.34"]}


@pytest.mark.parametrize(("url", "why"), HOSTILE)
def test_hostile_targets_are_refused_before_connecting(url: str, why: str) -> None:
    backend = ForbiddenBackend()

    async def main() -> None:
        async with OutboundClient(network_backend=backend, resolve=TableResolver(NAMES)) as c:
            with pytest.raises(OutboundRefused) as caught:
                await c.fetch(url, accept=[JSONLD])
            assert why in caught.value.reason
    run(main())
    assert backend.attempts == []


def test_literal_addresses_are_never_resolved() -> None:
    resolver = TableResolver({})

    async def main() -> None:
        async with OutboundClient(network_backend=ForbiddenBackend(), resolve=resolver) as c:
            with pytest.raises(OutboundRefused):
                await c.fetch("http://10.0.0.1/", accept=[JSONLD])
    run(main())
    assert resolver.calls == []


def test_an_unresolvable_name_is_a_peer_error() -> None:
    async def main() -> None:
        async with OutboundClient(network_backend=ForbiddenBackend(),
                                  resolve=TableResolver({})) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch("https://nowhere.example/", accept=[JSONLD])
            assert caught.value.reason == "unreachable"
            assert caught.value.status == 502
    run(main())


@pytest.mark.parametrize(("address", "allowed"), [
    ("93.184.216.34", True), ("2606:2800:220:1::1", True),
    ("64:ff9b::5db8:d822", True),      # NAT64 of a public IPv4 address (DNS64 networks)
    ("2002:5db8:d822::1", True),       # 6to4 of a public IPv4 address
    ("127.0.0.1", False), ("::1", False), ("::ffff:93.184.216.34", False),
    ("::5db8:d822", False), ("192.88.99.1", False), ("3fff::1", False),
    ("100::1", False), ("2001:2::1", False),
])
def test_address_table(address: str, allowed: bool) -> None:
    assert (blocked_reason(ip_address(address)) is None) is allowed


# -- configured peers, pinning -------------------------------------------------------

def test_a_configured_peer_on_loopback_is_reached() -> None:
    async def main() -> None:
        async with Server(ok()) as server, \
                OutboundClient(allowed_origins={server.origin + "/"}) as client:
            result = await client.fetch(server.origin + "/proposals/1", accept=[JSONLD])
            assert (result.status, result.media_type, result.body) == (200, JSONLD,
                                                                        b'{"@id": "x"}')
            assert result.url == server.origin + "/proposals/1"
            assert server.requests[0].headers["accept"] == JSONLD
            assert server.requests[0].headers["accept-encoding"] == "identity"
    run(main())


def test_the_connection_goes_to_the_vetted_address_with_the_name_as_host() -> None:
    """DNS rebinding: the name is resolved once, by the vetting step, and pinned."""
    backend = RecordingBackend()

    async def main() -> None:
        async with Server(ok()) as server:
            resolver = TableResolver({"peer-a.test": ["127.0.0.1"]})
            origin = f"http://peer-a.test:{server.port}"
            async with OutboundClient(allowed_origins=lambda: {origin}, resolve=resolver,
                                      network_backend=backend) as client:
                # A caller's Host header cannot retarget the request (virtual-host confusion).
                await client.fetch(origin + "/x", accept=[JSONLD],
                                   headers={"Host": "internal.example"})
            assert server.connections == 1
            assert server.requests[0].headers["host"] == f"peer-a.test:{server.port}"
            # The system resolver would fail on .test; the backend got the pinned address.
            assert backend.connected == [("127.0.0.1", server.port)]
            assert resolver.calls == ["peer-a.test"]
    run(main())


def test_the_pin_is_the_only_way_to_connect() -> None:
    """Without a vetted pin the transport refuses to connect, even to a live server."""
    async def main() -> None:
        async with Server(ok()) as server:
            transport = outbound.PinnedTransport()
            async with httpx.AsyncClient(transport=transport) as raw:
                with pytest.raises(httpx.ConnectError, match="no vetted address"):
                    await raw.get(server.origin + "/")
            assert server.connections == 0
    run(main())


def test_a_peer_removed_from_the_configuration_is_refused() -> None:
    async def main() -> None:
        async with Server(ok()) as server:
            peers = {server.origin}
            async with OutboundClient(allowed_origins=lambda: peers) as client:
                await client.fetch(server.origin + "/", accept=[JSONLD])
                peers.clear()
                with pytest.raises(OutboundRefused):
                    await client.fetch(server.origin + "/", accept=[JSONLD])
            assert len(server.requests) == 1
    run(main())


def tls_contexts(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for ``name``, and a client trusting it."""
    key = generate_private_key(SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def test_tls_is_verified_against_the_name_while_connecting_to_the_pinned_address(
        tmp_path: Path) -> None:
    server_tls, client_tls = tls_contexts(tmp_path, "peer-a.test")

    async def main() -> None:
        async with Server(ok(), tls=server_tls) as server:
            port = server.port
            resolver = TableResolver({"peer-a.test": ["127.0.0.1"],
                                      "peer-b.test": ["127.0.0.1"]})
            allowed = {f"https://peer-a.test:{port}", f"https://peer-b.test:{port}"}
            async with OutboundClient(allowed_origins=allowed, resolve=resolver,
                                      verify=client_tls) as client:
                result = await client.fetch(f"https://peer-a.test:{port}/", accept=[JSONLD])
                assert result.status == 200
                assert server.requests[0].headers["host"] == f"peer-a.test:{port}"
                # Same address, another name: the certificate does not match, so no request.
                with pytest.raises(PeerError) as caught:
                    await client.fetch(f"https://peer-b.test:{port}/", accept=[JSONLD])
                assert caught.value.reason == "unreachable"
                assert "certificate" in caught.value.detail.lower()
            assert len(server.requests) == 1
    run(main())


# -- redirects -----------------------------------------------------------------------

def test_a_redirect_to_a_loopback_address_that_is_not_a_peer_is_refused() -> None:
    async def main() -> None:
        async with Server(ok()) as target:
            async with Server(lambda s: (302, {"location": target.origin + "/"}, b"")) as peer, \
                    OutboundClient(allowed_origins={peer.origin}) as client:
                with pytest.raises(OutboundRefused) as caught:
                    await client.fetch(peer.origin + "/", accept=[JSONLD])
                assert str(target.port) in caught.value.url
                assert peer.connections == 1
            assert target.connections == 0
    run(main())


def test_relative_redirects_between_peers_are_followed_and_303_turns_post_into_get() -> None:
    def handler(seen: Seen) -> Answer:
        if seen.target == "/inbox":
            return 303, {"location": "/inbox/1"}, b""
        return 200, {"content-type": JSONLD}, b"{}"

    async def main() -> None:
        async with Server(handler) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            result = await client.fetch(peer.origin + "/inbox", method="POST", body=b"{}",
                                        headers={"Content-Type": JSONLD}, accept=[JSONLD])
            assert result.url == peer.origin + "/inbox/1"
            second = peer.requests[1]
            assert (second.method, second.body) == ("GET", b"")
            assert "content-type" not in second.headers
    run(main())


def test_at_most_three_redirects() -> None:
    async def main() -> None:
        async with Server(lambda s: (307, {"location": "/again"}, b"")) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch(peer.origin + "/", accept=[JSONLD])
            assert caught.value.reason == "redirects"
            assert len(peer.requests) == 4
    run(main())


class Chunks(httpx.AsyncByteStream):
    """A response body that arrives in chunks, unread until the client streams it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk


def streamed(status: int, headers: dict[str, str], body: bytes) -> httpx.Response:
    """A mock response whose body is streamed, as from the network (not pre-read)."""
    return httpx.Response(status, headers=headers, stream=Chunks([body]))


def mock_client(handler: Callable[[httpx.Request], httpx.Response],
                **kwargs: Any) -> OutboundClient:
    return OutboundClient(transport=httpx.MockTransport(handler),
                          resolve=TableResolver(NAMES), **kwargs)


def test_a_redirect_from_https_to_http_is_refused() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(301, headers={"location": "http://public.example/x"})

    async def main() -> None:
        async with mock_client(handler) as client:
            with pytest.raises(OutboundRefused, match="downgrades"):
                await client.fetch("https://public.example/", accept=[JSONLD])
    run(main())
    assert sent == ["https://public.example/"]


def test_a_public_url_redirecting_to_cloud_metadata_is_refused() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(302, headers={"location": "http://169.254.169.254/latest/"})

    async def main() -> None:
        async with mock_client(handler) as client:
            with pytest.raises(OutboundRefused, match="link-local"):
                await client.fetch("http://public.example/", accept=[JSONLD])
    run(main())
    assert sent == ["http://public.example/"]


def test_credentials_are_not_carried_to_another_origin_and_each_hop_is_signed() -> None:
    seen: list[httpx.Request] = []
    signed: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "public.example":
            return httpx.Response(302, headers={"location": "https://other.example/doc"})
        return streamed(200, {"content-type": JSONLD}, b"{}")

    def signer(method: str, url: str, headers: Any, body: bytes) -> dict[str, str]:
        signed.append(url)
        return {"Signature": f"for {url}"}

    async def main() -> None:
        names = {**NAMES, "other.example": ["93.184.216.35"]}
        async with OutboundClient(transport=httpx.MockTransport(handler), signer=signer,
                                  resolve=TableResolver(names)) as client:
            await client.fetch("https://public.example/", accept=[JSONLD],
                               headers={"Authorization": "Bearer t"})
    run(main())
    assert signed == ["https://public.example/", "https://other.example/doc"]
    assert seen[0].headers["authorization"] == "Bearer t"
    assert "authorization" not in seen[1].headers
    assert seen[1].headers["signature"] == "for https://other.example/doc"


# -- limits --------------------------------------------------------------------------

@pytest.mark.parametrize("declare_length", [True, False])
def test_a_body_over_the_limit_is_refused(declare_length: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        chunks = [b"x" * 600, b"x" * 600]
        headers = {"content-type": JSONLD}
        if declare_length:
            headers["content-length"] = "1200"
        return httpx.Response(200, headers=headers, stream=Chunks(chunks))

    async def main() -> None:
        async with mock_client(handler) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch("https://public.example/", accept=[JSONLD], max_bytes=1000)
            assert caught.value.reason == "too-large"
            assert len(caught.value.body) <= 1024
    run(main())


def test_an_unexpected_media_type_is_refused() -> None:
    async def main() -> None:
        async with Server(ok(b"<html/>", "text/html; charset=utf-8")) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch(peer.origin + "/", accept=[JSONLD, "text/turtle"])
            assert caught.value.reason == "media-type"
            result = await client.fetch(peer.origin + "/", accept=["text/*"])
            assert result.text() == "<html/>"
    run(main())


def test_an_error_status_keeps_the_url_status_and_one_kib_of_body() -> None:
    async def main() -> None:
        async with Server(lambda s: (500, {"content-type": "text/plain"}, b"e" * 5000)) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch(peer.origin + "/p", accept=[JSONLD])
            problem = problem_body(caught.value)
            assert (problem["status"], problem["upstreamStatus"]) == (502, 500)
            assert problem["url"] == peer.origin + "/p"
            assert len(problem["upstreamBody"]) == 1024
    run(main())


def test_an_unrequested_content_encoding_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return streamed(200, {"content-type": JSONLD, "content-encoding": "gzip"}, b"\x1f\x8b.")

    async def main() -> None:
        async with mock_client(handler) as client:
            with pytest.raises(PeerError) as caught:
                await client.fetch("https://public.example/", accept=[JSONLD])
            assert caught.value.reason == "encoding"
    run(main())


def test_a_peer_that_never_answers_times_out() -> None:
    async def never(seen: Seen) -> Answer:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    async def main() -> None:
        async with Server(never) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            started = time.monotonic()
            with pytest.raises(PeerError) as caught:
                await client.fetch(peer.origin + "/", accept=[JSONLD], timeout=0.5)
            assert caught.value.reason == "timeout"
            assert time.monotonic() - started < 2
    run(main())


def test_cookies_are_not_kept_between_requests() -> None:
    async def main() -> None:
        async with Server(lambda s: (200, {"content-type": JSONLD,
                                           "set-cookie": "track=1; Path=/"}, b"{}")) as peer, \
                OutboundClient(allowed_origins={peer.origin}) as client:
            await client.fetch(peer.origin + "/", accept=[JSONLD])
            await client.fetch(peer.origin + "/", accept=[JSONLD])
            assert "cookie" not in peer.requests[1].headers
    run(main())


def test_exported_members_are_exactly_all() -> None:
    public = {name for name in vars(outbound) if not name.startswith("_")}
    modules = {"address", "client", "errors", "transport"}
    assert public - modules == set(outbound.__all__)

"""Which URLs and addresses the node may connect to.

A target is vetted in two steps, both before any connection is opened:

1. The URL (:func:`parse_url`): ``http`` or ``https`` only, no userinfo, and a host that
   is a registered name, a canonical dotted-quad IPv4 address or an IPv6 literal. Other
   numeric spellings (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``) are
   refused outright: resolvers read them as addresses, and refusing them by spelling
   keeps the error message clear.
2. The addresses (:func:`vet_target`): the host is resolved once, and *every* address it
   resolves to must be globally routable (:func:`blocked_reason`). The vetted addresses
   are what the connection is later pinned to, so no second lookup can change them.

A configured peer's origin skips the address table: configuring a peer is the operator's
explicit permission to reach its address, even on loopback or a private network.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpx

from ddsnode.outbound.errors import OutboundRefused, PeerError

#: Resolves a host name and port to the addresses to try, in order.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_MAX_URL_LENGTH = 4096  # RFC 9110 4.1 recommends supporting 8000; no peer IRI needs this much
_DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG URL "ends in a number": the last label is decimal or 0x-hex, so resolvers read the
# whole host as an IPv4 address in one of the legacy spellings inet_aton accepts.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")

_V4_BLOCKED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), why) for net, why in (
        ("0.0.0.0/8", "'this network' (RFC 1122 3.2.1.3)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT shared space (RFC 6598)"),
        ("127.0.0.0/8", "loopback (RFC 1122 3.2.1.3)"),
        ("169.254.0.0/16", "link-local, cloud metadata (RFC 3927)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
        ("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
        ("224.0.0.0/4", "multicast (RFC 5771)"),
        ("240.0.0.0/4", "reserved, and broadcast (RFC 1112, RFC 919)"),
    ))

_V6_BLOCKED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why) for net, why in (
        ("::/128", "unspecified (RFC 4291 2.5.2)"),
        ("::1/128", "loopback (RFC 4291 2.5.3)"),
        ("::ffff:0:0/96", "IPv4-mapped (RFC 4291 2.5.5.2)"),
        ("::/96", "IPv4-compatible, deprecated (RFC 4291 2.5.5.1)"),
        ("::ffff:0:0:0/96", "IPv4-translated (RFC 2765)"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        ("2001::/32", "Teredo (RFC 4380)"),
        ("2001:2::/48", "benchmarking (RFC 5180)"),
        ("2001:10::/28", "ORCHID (RFC 4843)"),
        ("2001:20::/28", "ORCHIDv2 (RFC 7343)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
        ("fc00::/7", "unique local (RFC 4193)"),
        ("fe80::/10", "link-local (RFC 4291 2.5.6)"),
        ("fec0::/10", "site-local, deprecated (RFC 3879)"),
        ("ff00::/8", "multicast (RFC 4291 2.7)"),
    ))

# Prefixes that embed an IPv4 address: allowed only when the embedded address is.
_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 2.1 well-known prefix
_SIX_TO_FOUR = IPv6Network("2002::/16")  # RFC 3056 2


@dataclass(frozen=True)
class Target:
    """A vetted request target: the URL, its host and port, and the addresses to connect to."""

    url: httpx.URL
    host: str
    port: int
    origin: str
    addresses: tuple[str, ...]


def blocked_reason(address: IPv4Address | IPv6Address) -> str | None:
    """Why the node must not connect to ``address`` on its own initiative, or None if it may."""
    if isinstance(address, IPv6Address):
        if address.scope_id:
            return "scoped (zone) address"
        if address.ipv4_mapped is not None:
            return f"IPv4-mapped (RFC 4291 2.5.5.2), embeds {address.ipv4_mapped}"
        embedded: IPv4Address | None = None
        if address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)  # RFC 6052 2.2, /96 layout
        elif address in _SIX_TO_FOUR:
            embedded = address.sixtofour
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"embeds {embedded}, {inner}" if inner else None
        for net6, why in _V6_BLOCKED:
            if address in net6:
                return why
    else:
        for net4, why in _V4_BLOCKED:
            if address in net4:
                return why
    # Belt and braces: whatever else the IANA special-purpose registries say is not global.
    if not address.is_global or address.is_multicast:
        return "not globally routable (IANA special-purpose registry)"
    return None


def parse_url(url: str | httpx.URL) -> tuple[httpx.URL, str, int]:
    """Parse and check ``url`` (scheme, userinfo, host spelling); returns (URL, host, port)."""
    text = str(url)
    if len(text) > _MAX_URL_LENGTH:
        raise OutboundRefused(text, f"URL longer than {_MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        # httpx itself rejects some legacy IPv4 spellings (leading zeros: octal to inet_aton).
        kind = "non-canonical IPv4 spelling" if "IPv4" in str(exc) else "not a valid URL"
        raise OutboundRefused(text, f"{kind} ({exc})") from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise OutboundRefused(text, f"scheme {parsed.scheme!r} is not http or https")
    if parsed.userinfo:
        # RFC 9110 4.2.4: userinfo is deprecated in http(s) URIs; it also disguises hosts.
        raise OutboundRefused(text, "URL carries userinfo (user:password@)")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise OutboundRefused(text, "URL has no host")
    if ":" in host or "%" in host:
        if "%" in host:
            raise OutboundRefused(text, "IPv6 zone identifiers are not allowed")
        try:
            IPv6Address(host)
        except ValueError:
            raise OutboundRefused(text, f"invalid IPv6 literal {host!r}") from None
    elif _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            canonical = str(IPv4Address(host))
        except ValueError:
            canonical = ""
        if canonical != host:
            raise OutboundRefused(text, f"non-canonical IPv4 spelling {host!r}")
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise OutboundRefused(text, f"port {port} out of range")
    return parsed, host, port


def origin_of(scheme: str, host: str, port: int) -> str:
    """The ASCII serialisation of an origin, always with its port: ``scheme://host:port``."""
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def normalise_origin(origin: str) -> str:
    """A configured peer origin (or any URL on it) as ``scheme://host:port``; ValueError if bad."""
    try:
        parsed, host, port = parse_url(origin)
    except OutboundRefused as exc:
        raise ValueError(f"bad peer origin {origin!r}: {exc.reason}") from None
    return origin_of(parsed.scheme, host, port)


async def system_resolve(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver (``getaddrinfo`` in a worker thread)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vet_target(url: str | httpx.URL, *, allowed_origins: Collection[str],
                     resolve: Resolver) -> Target:
    """Check ``url`` and every address its host resolves to; raise OutboundRefused if refused.

    ``allowed_origins`` are normalised origins (:func:`normalise_origin`) whose addresses are
    not checked against the table. A name that does not resolve raises PeerError.
    """
    parsed, host, port = parse_url(url)
    text = str(parsed)
    origin = origin_of(parsed.scheme, host, port)
    permitted = origin in allowed_origins
    name = host.rstrip(".")
    if not permitted and (name == "localhost" or name.endswith(".localhost")):
        raise OutboundRefused(text, "'localhost' names are loopback (RFC 6761 6.3)")
    literal = _literal(host)
    if literal is not None:
        candidates = [literal]
    else:
        try:
            resolved = await resolve(host, port)
        except OSError as exc:
            raise PeerError(text, "unreachable", f"cannot resolve {host!r} ({exc})") from None
        if not resolved:
            raise PeerError(text, "unreachable", f"{host!r} resolves to no address")
        candidates = []
        for raw in resolved:
            try:
                candidates.append(ip_address(raw))
            except ValueError:
                raise OutboundRefused(text, f"resolver returned a non-address {raw!r}") from None
    for address in candidates:
        why = blocked_reason(address)
        if why is None:
            continue
        if address.is_unspecified or address.is_multicast:
            # Not even a configured peer lives at 0.0.0.0 or a group address.
            raise OutboundRefused(text, f"{host} resolves to {address}: {why}")
        if not permitted:
            raise OutboundRefused(text, f"{host} resolves to {address}: {why}")
    return Target(parsed, host, port, origin, tuple(str(a) for a in candidates))


def _literal(host: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(host)
    except ValueError:
        return None

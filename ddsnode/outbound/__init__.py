"""The one guarded outbound HTTP client (peers, notifications, keys).

Nothing a remote party sends can make the node connect to an address its operator did
not allow: targets are vetted before connecting, connections are pinned to the vetted
addresses, and every redirect is vetted again. See docs/federation-security.md.

Modules: ``address`` (URL and address vetting), ``transport`` (pinned connections),
``client`` (:class:`OutboundClient`), ``errors``. The errors::

    Unprocessable (422)
    └── OutboundRefused      refused before any connection (scheme, userinfo, address)
    UpstreamError (502)
    └── PeerError            bad status, media type, size, encoding, timeout, unreachable
"""

from ddsnode.outbound.address import (
    Resolver,
    Target,
    blocked_reason,
    normalise_origin,
    parse_url,
    system_resolve,
    vet_target,
)
from ddsnode.outbound.client import FetchResult, OutboundClient, RequestSigner
from ddsnode.outbound.errors import OutboundRefused, PeerError, PeerFailure
from ddsnode.outbound.transport import Pin, PinnedBackend, PinnedTransport, pinned

__all__ = [
    "FetchResult", "OutboundClient", "OutboundRefused", "PeerError", "PeerFailure", "Pin",
    "PinnedBackend", "PinnedTransport", "RequestSigner", "Resolver", "Target",
    "blocked_reason", "normalise_origin", "parse_url", "pinned", "system_resolve",
    "vet_target",
]

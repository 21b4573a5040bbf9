"""The port a node is about to listen on: checked before serving, so a taken port is one
clear line (which port, and how to choose another) instead of the server's ``[Errno 98]``.
"""

from __future__ import annotations

import errno
import socket
from contextlib import ExitStack

from ddsnode.cli import UsageError

SEARCH = 20  # ports tried above a taken one when suggesting a free one


class PortUnavailable(UsageError):
    """The port cannot be bound (in use, or not permitted); exit status 2."""


def _bind(host: str, port: int) -> None:
    """Bind and release ``host:port`` as the server will: asyncio's create_server (under
    uvicorn) binds every address ``host`` resolves to (``localhost``: 127.0.0.1 and ::1),
    with SO_REUSEADDR, and IPV6_V6ONLY on IPv6 sockets."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    with ExitStack() as held:  # all at once, as the server holds them
        for family, kind, proto, _, address in dict.fromkeys(
                (i[0], i[1], i[2], "", i[4]) for i in infos):
            sock = held.enter_context(socket.socket(family, kind, proto))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)


def free(host: str, port: int) -> bool:
    """True when ``host:port`` can be bound now."""
    try:
        _bind(host, port)
    except OSError:
        return False
    return True


def ensure_free(host: str, port: int) -> None:
    """PortUnavailable, naming the port and the way out, unless ``host:port`` can be bound."""
    if not 0 < port < 65536:  # 0 would be a port chosen by the system, unknown to base_url
        raise PortUnavailable(f"port {port} is not a TCP port; choose one from 1024 to 65535 "
                              "with --port")
    try:
        _bind(host, port)
    except socket.gaierror as e:
        raise PortUnavailable(f"cannot listen on {host!r}: {e.strerror}; "
                              "choose another address with --host") from None
    except OSError as e:
        suggestion = next((p for p in range(port + 1, min(port + SEARCH, 65535) + 1)
                           if free(host, p)), None)
        hint = f" (e.g. --port {suggestion}, which is free)" if suggestion else ""
        if e.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} on {host} is already in use (another node, or another "
                f"program); choose another port with --port{hint}") from None
        if e.errno == errno.EACCES:
            raise PortUnavailable(
                f"port {port} on {host} needs privileges this user does not have; "
                f"choose a port above 1023 with --port{hint}") from None
        raise PortUnavailable(f"cannot listen on {host}:{port}: {e.strerror}; choose "
                              f"another port with --port or address with --host") from None

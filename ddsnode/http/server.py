"""The HTTP/1.1 connection of ``ddsnode serve``: uvicorn's httptools protocol, bounded.

uvicorn's httptools protocol (kept: with uvloop it gives the read throughput in the
README) bounds neither the size of a request head nor the time a client may take to send
it or its body, so one slow or bloated client could hold a connection, and the memory of
its head, for ever. :class:`BoundedProtocol` adds, per connection:

* a **header timeout**: from the start of the connection (or of a request on a kept-alive
  connection) to the end of the head; past it the node answers 408 and closes
  (RFC 9110 15.5.9, "the server SHOULD send the close connection option");
* a **body timeout**: the longest silence between two pieces of a body (the idle
  timeout of nginx's ``client_body_timeout``): 408 and close, and the application reads
  a disconnect, so nothing of the body is written (``exchange.read_body``);
* a bound on the **request target** (414, RFC 9110 15.5.15), on the **header bytes** and
  on the **number of header lines** (431, RFC 6585 5), checked while the head arrives:
  a head is never buffered much past its limit (by at most one read from the socket).

A timer is armed once per connection and re-armed lazily at the current deadline, so a
request costs a clock read, not a timer. While uvicorn has paused reading (the
application has not yet taken the previous chunk, or a pipelined request waits), the
client is not the one late, and the deadline moves on.

Every refusal closes in stages (RFC 9112 9.6): the answer, FIN, then what the client
still sends is discarded for ``header_timeout`` at most, so it reads the answer rather
than a reset. So does an answer sent before its request's body ended (413, 401): the
rest of that body is never parsed.

On shutdown (SIGTERM) a connection still waiting for a body is answered 503 and closed:
the request is not run, and the node does not wait for the client.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ddsnode.http.errors import problem_response
from ddsnode.http.exchange import ASGIApp
from ddsnode.problem import (
    BadRequest,
    HeaderFieldsTooLarge,
    Problem,
    RequestTimeout,
    Unavailable,
    URITooLong,
)
from ddsnode.settings import Settings

IDLE, HEAD, BODY = 0, 1, 2  # what the connection waits for from the client (if anything)


@dataclass(frozen=True)
class TransportLimits:
    """The bounds of one connection, from the settings of the same names."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_url_bytes: int = 32 * 1024
    max_header_bytes: int = 16 * 1024
    max_header_count: int = 100

    @classmethod
    def from_settings(cls, settings: Settings) -> TransportLimits:
        """The limits set for a node."""
        return cls(float(settings.header_timeout), float(settings.body_timeout),
                   int(settings.max_url_bytes), int(settings.max_header_bytes),
                   int(settings.max_header_count))


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a head that is over a limit."""


class BoundedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head limits and header/body timeouts."""

    limits: ClassVar[TransportLimits] = TransportLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = IDLE
        self._deadline = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._watch_at = 0.0
        self._heading = True  # the next bytes belong to a request head
        self._moved = False  # a head began or ended during the current read
        self._url_bytes = self._header_bytes = self._header_count = self._raw_head = 0
        self._refusal: Problem | None = None
        self._lingering = False  # answered and closing: what arrives is discarded
        self._linger_timer: asyncio.TimerHandle | None = None
        # Read on every request: kept as plain attributes (one lookup each).
        limits = self.limits
        self._max_url, self._max_header_bytes = limits.max_url_bytes, limits.max_header_bytes
        self._max_header_count, self._max_head = limits.max_header_count, (
            limits.max_url_bytes + limits.max_header_bytes)
        self._header_timeout, self._body_timeout = limits.header_timeout, limits.body_timeout

    # --- timers -------------------------------------------------------------------------

    def _wait_for(self, phase: int, seconds: float) -> None:
        self._phase = phase
        self._deadline = self.loop.time() + seconds
        if self._watch is None or self._deadline < self._watch_at:
            self._schedule()

    def _schedule(self) -> None:
        """Fire the watch at the current deadline (earlier than it was, or not armed)."""
        if self._watch is not None:
            self._watch.cancel()
        self._watch_at = self._deadline
        self._watch = self.loop.call_at(self._deadline, self._on_watch)

    def _on_watch(self) -> None:
        self._watch = None
        if self._phase == IDLE or self.transport.is_closing():
            return
        now = self.loop.time()
        if self.flow.read_paused:  # the node is not reading: the client is not late
            self._deadline = now + (self.limits.header_timeout if self._phase == HEAD
                                    else self.limits.body_timeout)
        if now < self._deadline:
            self._watch_at = self._deadline
            self._watch = self.loop.call_at(self._deadline, self._on_watch)
            return
        what = "request headers" if self._phase == HEAD else "rest of the request body"
        seconds = self.limits.header_timeout if self._phase == HEAD else self.limits.body_timeout
        self._close_with(RequestTimeout(f"The {what} did not arrive within {seconds:g} s"))

    # --- answering from the connection ---------------------------------------------------

    def _close_with(self, problem: Problem, *, linger: bool = True) -> None:
        """Answer ``problem`` (if no other response is under way) and close."""
        self._phase = IDLE
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started or self._heading:
                # An earlier request is being answered: a second answer cannot be put
                # in the middle. That one ends the connection; what arrives meanwhile
                # is discarded.
                cycle.keep_alive = False
                self._lingering = True
                return
            # The request waits for its body: the application reads a disconnect.
            cycle.disconnected = True
            cycle.message_event.set()
        status, headers, body = problem_response(problem)
        content = [STATUS_LINE[status]]
        for name, value in [*self.server_state.default_headers, *headers,
                            (b"x-content-type-options", b"nosniff"), (b"connection", b"close")]:
            content += [name, b": ", value, b"\r\n"]
        content += [b"\r\n", body]
        self.transport.write(b"".join(content))
        if linger:
            self._linger()
        else:
            self.transport.close()

    def _linger(self) -> None:
        """Close in stages (RFC 9112 9.6): end the answer with FIN, then read and discard
        what the client still sends, for ``header_timeout`` at most. Closing with its
        unread bytes in the socket would reset the connection, and the client would lose
        the answer (a 431 for an 8 MB head it is still sending)."""
        self._lingering = True
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger_timer = self.loop.call_later(self._header_timeout, self.transport.close)

    def send_400_response(self, msg: str) -> None:
        """A head the parser refused (or one over a limit), as a problem document."""
        self._close_with(self._refusal or BadRequest(f"{msg} (RFC 9112)"))

    def _refuse(self, problem: Problem) -> None:
        self._refusal = problem
        raise _Refused(problem.detail)

    # --- connection and parser callbacks -------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header timer with the connection."""
        super().connection_made(transport)
        self._wait_for(HEAD, self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timer."""
        self._phase = IDLE
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; bound the bytes of a head still incomplete after this read."""
        # uvicorn's data_received, inlined (it runs for every read), then the head bound.
        if self._lingering or self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        heading, self._moved = self._heading, False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            # A head over a limit stops the parser too: log what was refused, not a parse error.
            refused = self._refusal
            self.logger.warning("Refused a request: %s", refused.detail if refused else
                                "invalid HTTP")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            # The node serves no WebSocket: uvicorn's answer to an upgrade it cannot do.
            self._unsupported_upgrade_warning()
            return
        if not self._heading or self._lingering:
            return
        if heading and not self._moved:
            self._raw_head += len(data)  # includes a header line httptools is buffering
        else:
            self._raw_head = self._url_bytes + self._header_bytes
        if self._raw_head > self._max_head and not self.transport.is_closing():
            self._close_with(HeaderFieldsTooLarge(
                f"The request head exceeds {self._max_head} bytes"))

    def on_message_begin(self) -> None:
        """A request starts: its head has ``header_timeout`` to arrive."""
        super().on_message_begin()
        if self._phase != HEAD:  # _wait_for, inlined: once per request
            self._phase = HEAD
            self._deadline = self.loop.time() + self._header_timeout
            if self._watch is None or self._deadline < self._watch_at:
                self._schedule()

    def on_url(self, url: bytes) -> None:
        """Count the request target (414 past ``max_url_bytes``)."""
        self._url_bytes += len(url)
        if self._url_bytes > self._max_url:
            self._refuse(URITooLong(f"The request target exceeds {self._max_url} bytes"))
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count header lines and bytes (431 past ``max_header_count``/``_bytes``)."""
        self._header_count += 1
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._header_count > self._max_header_count:
            self._refuse(HeaderFieldsTooLarge(
                f"More than {self._max_header_count} header lines"))
        if self._header_bytes > self._max_header_bytes:
            self._refuse(HeaderFieldsTooLarge(
                f"The header lines exceed {self._max_header_bytes} bytes"))
        # uvicorn's on_header, inlined (it runs for every header line).
        name = name.lower()
        value = value.rstrip(b" \t")  # RFC 9110 5.5: no trailing whitespace in a value
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        """The head is whole: the body (if any) has ``body_timeout`` between pieces."""
        self._heading = False
        self._moved = True
        self._phase = BODY  # _wait_for, inlined: once per request
        self._deadline = self.loop.time() + self._body_timeout
        if self._watch is None or self._deadline < self._watch_at:
            self._schedule()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        """A piece of body: the silence allowed starts again."""
        self._deadline = self.loop.time() + self._body_timeout
        super().on_body(body)

    def on_message_complete(self) -> None:
        """The request is whole: the next bytes are the next request's head."""
        self._heading, self._moved = True, True
        self._url_bytes = self._header_bytes = self._header_count = self._raw_head = 0
        self._phase = IDLE
        super().on_message_complete()
        if self.cycle.response_complete:
            # The application answered before the body ended (413, 401): nothing else
            # bounds the wait for the next request's head.
            self._wait_for(HEAD, self._header_timeout)

    def on_response_complete(self) -> None:
        """A response sent before its request's body ended (413, 401, 415) closes the
        connection in stages: the rest of the body is never parsed (RFC 9110 15.5.14)."""
        super().on_response_complete()
        if self._phase == BODY and not self.transport.is_closing():
            self._unset_keepalive_if_required()
            self._phase = IDLE
            self._linger()

    def shutdown(self) -> None:
        """On SIGTERM: a request still waiting for its body is answered 503, not run."""
        if self._lingering and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()  # only discarding: nothing left to answer
            return
        if self._phase == BODY and self.cycle is not None and not self.cycle.response_started:
            self._close_with(Unavailable("The node is shutting down; send the request again"),
                             linger=False)
            return
        super().shutdown()


def protocol_for(limits: TransportLimits) -> type[BoundedProtocol]:
    """A :class:`BoundedProtocol` class bound to ``limits`` (uvicorn builds one per
    connection from the class, so the limits travel with it)."""
    return type("BoundedProtocol", (BoundedProtocol,), {"limits": limits})


def server_config(app: ASGIApp, settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration of ``ddsnode serve``."""
    # No proxy-headers middleware: the node names itself by base_url (never by Host or
    # X-Forwarded-*) and does not use the client address, so it has nothing to rewrite.
    return uvicorn.Config(
        app, host=settings.host, port=int(settings.port), log_level=settings.log_level,
        access_log=settings.log_level == "debug", lifespan="on", proxy_headers=False,
        ws="none",  # the node serves no WebSocket: an Upgrade is answered as plain HTTP
        http=protocol_for(TransportLimits.from_settings(settings)),
        timeout_graceful_shutdown=settings.shutdown_timeout)

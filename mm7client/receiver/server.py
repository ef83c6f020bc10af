"""Run the receiver standalone: :class:`ReceiverServer`, an async context manager."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from types import TracebackType

from mm7client.codec import Limits
from mm7client.http_server import AppServer
from mm7client.profiles import LGT, CarrierProfile
from mm7client.receiver.app import ItemCallback, create_receiver_app
from mm7client.receiver.store import ReceiverStore
from mm7client.server import IPNetwork, ServerLimits, check_exposure

__all__ = ["ReceiverServer"]

log = logging.getLogger(__name__)


class ReceiverServer:
    """The receiver on its own aiohttp server.

    ``async with ReceiverServer(store, port=0) as rx: ...`` listens on a free port; give
    ``rx.url`` to the MMSC as the delivery-report URL. The store is not closed on exit (it
    belongs to the caller). The other arguments are those of
    :func:`~mm7client.receiver.create_receiver_app`.

    Args:
        store: where items go.
        host: address to listen on (default loopback only).
        port: TCP port; 0 picks a free one (read it back from :attr:`port` / :attr:`url`).
        server_limits: header, idle and body timeouts, the connection cap
            (:class:`~mm7client.server.ServerLimits`; served by
            :class:`~mm7client.http_server.AppServer`).
        insecure: allow listening on a non-loopback address with neither ``basic_auth`` nor
            ``allow_ips`` (a warning is logged at start); without it that is a
            :class:`ValueError`.
        shutdown_timeout: seconds in-flight requests get to finish when stopping.
    """

    def __init__(
        self,
        store: ReceiverStore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/",
        on_item: ItemCallback | None = None,
        basic_auth: tuple[str, str] | None = None,
        allow_ips: Iterable[str | IPNetwork] | None = None,
        limits: Limits | None = None,
        profile: CarrierProfile | str = LGT,
        server_limits: ServerLimits | None = None,
        answer_form: str = "mirror",
        insecure: bool = False,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.exposure = check_exposure(
            host,
            authenticated=basic_auth is not None,
            allow_listed=allow_ips is not None,
            insecure=insecure,
        )
        self.store = store
        self.host = host
        self.path = path if path.startswith("/") else "/" + path
        self.app = create_receiver_app(
            store,
            path=self.path,
            basic_auth=basic_auth,
            allow_ips=allow_ips,
            limits=limits,
            on_item=on_item,
            profile=profile,
            server_limits=server_limits,
            answer_form=answer_form,
        )
        self.server_limits = server_limits or ServerLimits()
        self._requested_port = port
        self._port: int | None = None
        self._server: AppServer | None = None
        self._shutdown_timeout = shutdown_timeout

    @property
    def port(self) -> int:
        """The port actually listened on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("ReceiverServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """The URL the MMSC posts to, e.g. ``http://127.0.0.1:8080/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def start(self) -> None:
        """Start listening."""
        if self._server is not None:
            raise RuntimeError("ReceiverServer is already started")
        server = AppServer(
            self.app,
            host=self.host,
            port=self._requested_port,
            limits=self.server_limits,
            shutdown_timeout=self._shutdown_timeout,
            name="MM7 receiver",
        )
        await server.start()
        self._server = server
        self._port = server.port
        log.info("MM7 receiver listening on %s", self.url)
        if self.exposure is not None:
            log.warning("MM7 receiver is insecure: %s", self.exposure)

    async def stop(self) -> None:
        """Stop listening; in-flight requests finish first (up to ``shutdown_timeout``)."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def serve_forever(self) -> None:
        """Start (if needed) and wait until cancelled."""
        if self._server is None:
            await self.start()
        await asyncio.Event().wait()

    async def __aenter__(self) -> ReceiverServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

"""moto's request dispatcher, without a listing of moto's package directory on every request.

moto's server finds the service of each request under one lock for the whole process
(`DomainDispatcherApplication.get_application`), and under it `get_backend_for_host` lists moto's package
directory and asks `isdir` of each of its entries (about 170) before it matches the host against every
service's URL patterns: 1.3 to 1.9 ms per request. Each of those system calls lets go of the interpreter's
lock, which the thread holding the dispatcher's lock must then win back from every other request thread
before it can go on; on a loaded machine every request of every client waits in line behind that lock. A
team of eight consoles on the sandbox of a busy 2-core machine received its events 1 to 13 s late, every
console at the same moments, while a read of the sandbox's own CPU showed it a fifth busy.

The answer depends on the host alone (moto's modules and URL patterns do not change while it runs), so
`Dispatcher` remembers it per host: the lock is then held for a few dictionary look-ups.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

HOSTS_KEPT = 1024  # hosts are SERVICE.REGION.amazonaws.com: a few dozen; a bound all the same


class Dispatcher(DomainDispatcherApplication):
    """`DomainDispatcherApplication` that finds each host's backend once."""

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backends: dict[str, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host is None:
            return None
        try:
            return self._backends[host]
        except KeyError:
            pass
        backend = super().get_backend_for_host(host)
        if len(self._backends) < HOSTS_KEPT:
            self._backends[host] = backend
        return backend

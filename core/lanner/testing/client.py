"""``TestClient``: a synchronous wrapper over :class:`ASGIConductor` for HTTP tests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from lanner.app import App
from lanner.testing._http import DEFAULT_TIMEOUT, Result
from lanner.testing.conductor import ASGIConductor

__all__ = ["TestClient"]

T = TypeVar("T")


class TestClient:
    """Calls an app synchronously from plain (non-async) tests.

    The first call runs lifespan startup on a private event loop; ``close()``
    (or leaving the ``with`` block) runs shutdown. It cannot be used from
    inside a running event loop: use :class:`ASGIConductor` there.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, app: App, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.app = app
        self._conductor = ASGIConductor(app, timeout=timeout)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> TestClient:
        self._ensure_started()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError(
                "TestClient cannot run inside a running event loop; "
                "use `async with ASGIConductor(app)` in async tests."
            )
        self._ensure_started()
        assert self._loop is not None
        return self._loop.run_until_complete(coro)

    def _ensure_started(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._conductor.__aenter__())
            except BaseException:
                self._loop.close()
                self._loop = None
                raise

    def close(self) -> None:
        """Run lifespan shutdown and close the private event loop."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run_until_complete(self._conductor.__aexit__(None, None, None))
            finally:
                loop.close()

    def simulate_request(self, method: str, path: str, **kwargs: Any) -> Result:
        """Send one request; see :meth:`ASGIConductor.simulate_request`."""
        return self._run(self._conductor.simulate_request(method, path, **kwargs))

    def simulate_get(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("GET", path, ...)``."""
        return self.simulate_request("GET", path, **kwargs)

    def simulate_head(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("HEAD", path, ...)``."""
        return self.simulate_request("HEAD", path, **kwargs)

    def simulate_post(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("POST", path, ...)``."""
        return self.simulate_request("POST", path, **kwargs)

    def simulate_put(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PUT", path, ...)``."""
        return self.simulate_request("PUT", path, **kwargs)

    def simulate_patch(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("PATCH", path, ...)``."""
        return self.simulate_request("PATCH", path, **kwargs)

    def simulate_delete(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("DELETE", path, ...)``."""
        return self.simulate_request("DELETE", path, **kwargs)

    def simulate_options(self, path: str, **kwargs: Any) -> Result:
        """``simulate_request("OPTIONS", path, ...)``."""
        return self.simulate_request("OPTIONS", path, **kwargs)

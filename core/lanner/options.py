"""Request and response options shared by every request of an app."""

from __future__ import annotations

from lanner.media.handlers import Handlers

__all__ = ["RequestOptions", "ResponseOptions"]


class RequestOptions:
    """How requests are read (``app.req_options``).

    Attributes:
        media_handlers: Decoders for ``await req.get_media()``, by media type.
            JSON and MessagePack come from the default plugins.
        max_body_size: The largest request body, in bytes, that lanner reads;
            a longer one fails with 413. ``None`` removes the bound (not
            recommended: a client could then make the app buffer any amount).
        keep_blank_qs_values: Whether ``?a=&b=1`` keeps ``a`` as an empty string.
    """

    __slots__ = ("keep_blank_qs_values", "max_body_size", "media_handlers")

    def __init__(self) -> None:
        self.media_handlers = Handlers("req_options.media_handlers")
        self.max_body_size: int | None = 4 * 1024 * 1024
        self.keep_blank_qs_values = False


class ResponseOptions:
    """How responses are written (``app.resp_options``).

    Attributes:
        media_handlers: Encoders for ``resp.media``, by media type.
        default_media_type: The ``Content-Type`` used for ``resp.media`` when
            the responder sets none.
    """

    __slots__ = ("default_media_type", "media_handlers")

    def __init__(self) -> None:
        self.media_handlers = Handlers("resp_options.media_handlers")
        self.default_media_type = "application/json"

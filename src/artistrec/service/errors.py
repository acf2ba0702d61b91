"""The errors the service documents: every interface translates them into messages or statuses.

Each error is complete when constructed (no attributes attached afterwards): ``field`` names the
request field at fault, so the HTTP API can list it and the CLI can point at the option.
"""

from __future__ import annotations

from collections.abc import Sequence


class InvalidRequestError(ValueError):
    """Input that can never be served (bad level, k, too many ratings, ...); ``field`` names it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownArtistError(KeyError):
    """An artist id or name that is not in the data; ``suggestions`` lists close names.

    ``field`` names the request field that held it (``"ratings"``, ``"exclude"``), when known.
    """

    def __init__(
        self, query: object, suggestions: Sequence[str] = (), field: str | None = None
    ) -> None:
        self.query = query
        self.suggestions = list(suggestions)
        self.field = field
        msg = f"unknown artist: {query!r}"
        if self.suggestions:
            msg += f"; did you mean: {', '.join(self.suggestions)}?"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownUserError(KeyError):
    """A user id that is not in the data."""

    def __init__(self, user_id: object) -> None:
        self.user_id = user_id
        super().__init__(f"unknown user id: {user_id!r}")

    def __str__(self) -> str:
        return str(self.args[0])

"""What a message is about: the handlers the apps owning a kind of subject register with the outbox.

The outbox records, claims, sends, retries and lists messages; what a
message says, and whether it is still wanted when its time comes, belongs to
the app that owns its subject (booking for appointments, ``booking/messages``).
That app registers one ``SubjectHandler`` per ``Message.subject_type`` in its
``AppConfig.ready()``; the outbox looks it up when it sends or lists a
message and imports nothing of that app.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    import datetime

    from notifications.models import Message


@dataclass(frozen=True)
class Email:
    """An e-mail's content; the outbox adds the recipient and sends it."""

    subject: str
    text: str
    html: str
    attachments: list[tuple[str, bytes | str, str]] = field(default_factory=list)  # (file name, content, type)


class SubjectHandler:
    """Says what the messages about one type of subject say. Called in the message's language.

    Subclasses implement ``email`` and ``sms`` for the channels they use; the
    other methods have defaults that suit a subject without rules of its own.
    """

    def email(self, message: "Message") -> Email:
        raise NotImplementedError(f"no e-mail for {message.subject_type} messages")

    def sms(self, message: "Message") -> str:
        raise NotImplementedError(f"no SMS for {message.subject_type} messages")

    def withdraw_reason(self, message: "Message", *, now: "datetime.datetime") -> str:
        """Why a claimed message is not wanted any more (it goes to the outbox as withdrawn), or "" to send it."""
        return ""

    def expired_reason(self, message: "Message") -> str:
        """The outbox's note when a message reached its ``expires_at`` unsent."""
        from django.utils.translation import gettext as _

        return _("Its time has passed.")

    def kind_label(self, kind: str) -> str:
        return kind

    def label(self, message: "Message") -> str:
        """The subject in lists (the admin's)."""
        return f"{message.subject_type} {message.subject_id or ''}".strip()

    def search(self, term: str) -> Q | None:
        """Messages whose subject matches an administrator's search term; None when none can."""
        return None

    def scopes(self) -> list[tuple[str, str]]:
        """The staff lists (``Message.scope``) its messages go to, with their names, for the admin's filter."""
        return []


_handlers: dict[str, SubjectHandler] = {}


def register(subject_type: str, handler: SubjectHandler) -> None:
    """Make ``handler`` the one for ``subject_type`` (from the owning app's ``AppConfig.ready()``)."""
    known = _handlers.get(subject_type)
    if known is not None and type(known) is not type(handler):
        raise ValueError(f"{subject_type!r} messages already have a handler: {known!r}")
    _handlers[subject_type] = handler


def unregister(subject_type: str) -> None:
    _handlers.pop(subject_type, None)


def handler_for(subject_type: str) -> SubjectHandler:
    """The registered handler; LookupError when no app registered one (the send fails and is retried)."""
    try:
        return _handlers[subject_type]
    except KeyError:
        raise LookupError(f"no handler registered for {subject_type!r} messages") from None


def handlers() -> dict[str, SubjectHandler]:
    return dict(_handlers)


def kind_label(message: "Message") -> str:
    handler = _handlers.get(message.subject_type)
    return handler.kind_label(message.kind) if handler else message.kind

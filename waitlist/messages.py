"""What the waitlist's messages say: the request to confirm the address, an offer of a freed time, and the pause
after offers that lapsed. Registered with the outbox in ``WaitlistConfig.ready()``."""

import datetime

from django.conf import settings
from django.db.models import Q, TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.grid import BERLIN
from notifications.models import Message
from notifications.services import messages_record, require_transaction
from notifications.subjects import Email, SubjectHandler
from offices.models import Office
from waitlist.models import Offer, Registration
from waitlist.selectors import registration_needs

SUBJECT = "waitlist"  # Message.subject_type: the subject is a Registration


class Kind(TextChoices):
    CONFIRM = "waitlist_confirm", gettext_lazy("waitlist: request to confirm")
    OFFER = "waitlist_offer", gettext_lazy("waitlist: a time offered")
    PAUSED = "waitlist_paused", gettext_lazy("waitlist: paused")
    REFUSED = "waitlist_refused", gettext_lazy("waitlist: not an urgent case")


def registration_message_record(
    *, registration: Registration, kind: str, now: datetime.datetime, offer: Offer | None = None
) -> list[Message]:
    """Record the message, in the caller's transaction (the outbox sends it after the commit)."""
    require_transaction("registration_message_record")
    context: dict[str, object] = {}
    expires_at = None
    if offer is not None:
        context = {
            "offer": offer.pk,
            "office": offer.office_id,
            "start": offer.start.isoformat(),
            "end": offer.end.isoformat(),
            "expires_at": offer.expires_at.isoformat(),
        }
        expires_at = offer.expires_at
    message = Message(
        subject_type=SUBJECT,
        subject_id=registration.pk,
        kind=kind,
        channel=Message.Channel.EMAIL,
        recipient=registration.email,
        language=registration.language,
        context=context,
        due_at=now,
        expires_at=expires_at,
        scope=f"office:{offer.office_id}" if offer is not None else "",  # the office's list of messages
    )
    return messages_record(messages=[message], now=now)


def _url(name: str, token: str) -> str:
    return settings.SITE_URL + reverse(name, args=[token])


class WaitlistMessages(SubjectHandler):
    def _registration(self, message: Message) -> Registration | None:
        return Registration.objects.filter(pk=message.subject_id).first()

    def email(self, message: Message) -> Email:
        registration = Registration.objects.get(pk=message.subject_id)
        context: dict[str, object] = {
            "message": message,
            "registration": registration,
            "services": _needs_text(registration),
            "page_url": _url("waitlist:registration", registration.token),
            "confirm_url": _url("waitlist:confirm", registration.confirm_token),
            "site_url": settings.SITE_URL,
        }
        if "offer" in message.context:
            offer = Offer.objects.select_related("office").get(pk=message.context["offer"])
            context |= {"offer": offer, "office": offer.office, "offer_url": _url("waitlist:offer", offer.token)}
        name = f"emails/{message.kind}"
        with timezone.override(BERLIN):
            return Email(
                subject=" ".join(render_to_string(f"{name}-subject.txt", context).split()),
                text=render_to_string(f"{name}.txt", context),
                html=render_to_string(f"{name}.html", context),
            )

    def withdraw_reason(self, message: Message, *, now: datetime.datetime) -> str:
        registration = self._registration(message)
        if registration is None:
            return _("The registration no longer exists.")
        if message.kind == Kind.CONFIRM and registration.status != Registration.Status.UNCONFIRMED:
            return _("The registration is confirmed already, or withdrawn.")
        if (
            message.kind == Kind.OFFER
            and not Offer.objects.filter(pk=message.context.get("offer"), status=Offer.Status.OPEN).exists()
        ):
            return _("The offer is no longer open.")
        return ""

    def expired_reason(self, message: Message) -> str:
        return _("The offer is no longer open.")

    def kind_label(self, kind: str) -> str:
        return str(Kind(kind).label) if kind in Kind.values else kind

    def label(self, message: Message) -> str:
        return _("Waitlist registration %(id)s") % {"id": message.subject_id}

    def search(self, term: str) -> Q | None:
        return Q(subject_id=int(term)) if term.isdigit() else None

    def scopes(self) -> list[tuple[str, str]]:
        return [(f"office:{office.pk}", office.name) for office in Office.objects.order_by("name")]


def _needs_text(registration: Registration) -> list[str]:
    return [
        f"{need.service.name} × {need.persons}" if need.persons > 1 else need.service.name
        for need in registration_needs(registration) or []
    ]

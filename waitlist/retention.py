"""Erasing the personal data of waitlist registrations that ended, after the retention period.

Needs, days, offices, status and times stay; the name, the contact, the reasons and the private links go.
"""

import datetime

from django.db import transaction
from django.db.models import Q

from booking.grid import BERLIN
from booking.models import new_token
from offices.retention import BATCH_SIZE, Cutoffs, erase_in_batches
from waitlist.models import Offer, Registration

# A retired private link: a fresh random token nobody was given, marked so the nightly pass skips the row.
RETIRED_TOKEN_PREFIX = "erased-"  # noqa: S105 - a marker, not a secret
ENDED = (
    Registration.Status.BOOKED,
    Registration.Status.WITHDRAWN,
    Registration.Status.ENDED,
    Registration.Status.REFUSED,
)
ERASED_VALUES = {"name": "", "email": "", "phone": "", "email_key": "", "reason": "", "refused_reason": ""}


def _ended_before(before: datetime.datetime) -> Q:
    """Ended before the cut-off: its last change (ended after its last day, booked, withdrawn, refused) lies
    before it; an ended registration's last day too."""
    return Q(updated_at__lt=before) & (
        ~Q(status=Registration.Status.ENDED) | Q(last_day__lt=before.astimezone(BERLIN).date())
    )


def registrations_erase_personal_data(*, cutoffs: Cutoffs, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> int:
    """Erase the registrations that ended before the cut-off of their offices (the longest period among them) and
    retire their private links and their offers' links; the number of registrations."""
    ended = Registration.objects.filter(status__in=ENDED).exclude(token__startswith=RETIRED_TOKEN_PREFIX)
    longer = list(cutoffs.office_before)
    due_ids = set(ended.filter(_ended_before(cutoffs.before)).exclude(offices__in=longer).values_list("pk", flat=True))
    if longer:  # few rows: those of an office keeping data longer, each by its longest period
        linked: dict[int, set[int]] = {}
        for pk, office_id in ended.filter(offices__in=longer).values_list("pk", "offices"):
            linked.setdefault(pk, set()).add(office_id)
        for pk in ended.filter(pk__in=linked).filter(_ended_before(cutoffs.before)).values_list("pk", flat=True):
            cutoff = cutoffs.earliest(linked[pk])
            if ended.filter(pk=pk).filter(_ended_before(cutoff)).exists():
                due_ids.add(pk)
    due = ended.filter(pk__in=due_ids)

    def erase(ids: list[int]) -> None:
        with transaction.atomic():  # one batch at a time: erased and its links retired together
            Registration.objects.filter(pk__in=ids).update(**ERASED_VALUES)
            retired = [
                Registration(pk=pk, token=RETIRED_TOKEN_PREFIX + new_token(), confirm_token=new_token()) for pk in ids
            ]
            Registration.objects.bulk_update(retired, ["token", "confirm_token"])
            offers = [
                Offer(pk=pk, token=new_token())
                for pk in Offer.objects.filter(registration__in=ids).values_list("pk", flat=True)
            ]
            Offer.objects.bulk_update(offers, ["token"])

    return erase_in_batches(due, erase, dry_run=dry_run, batch_size=batch_size)

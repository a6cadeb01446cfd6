"""Erasing what links a ticket to its holder after the retention period: the token of its phone page.

Tickets carry no name; their number, times, service and status stay for the figures.
"""

from django.db import transaction

from offices.retention import BATCH_SIZE, Cutoffs, erase_in_batches
from tickets.models import TICKET_TOKEN_LENGTH, Ticket, new_ticket_token

# A retired token starts with a dash: the phone page strips dashes from what is typed, so it can never match.
RETIRED_TOKEN_PREFIX = "-"  # noqa: S105 - a marker, not a secret


def tickets_erase_personal_data(*, cutoffs: Cutoffs, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> int:
    """Retire the phone page of every ticket drawn before its office's cut-off; the number of tickets."""
    due = Ticket.objects.filter(cutoffs.due("issued_at")).exclude(token__startswith=RETIRED_TOKEN_PREFIX)

    def erase(ids: list[int]) -> None:
        length = TICKET_TOKEN_LENGTH - len(RETIRED_TOKEN_PREFIX)
        retired = [Ticket(pk=pk, token=RETIRED_TOKEN_PREFIX + new_ticket_token()[:length]) for pk in ids]
        with transaction.atomic():
            Ticket.objects.bulk_update(retired, ["token"])

    return erase_in_batches(due, erase, dry_run=dry_run, batch_size=batch_size)

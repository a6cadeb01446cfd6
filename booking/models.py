"""The slot grid (bookable capacity per office and slot) and the appointments that occupy it."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offices.models import Office, Service


class Slot(models.Model):
    """One slot of an office's grid: how many counters are on duty and how many units are booked.

    ``counters`` clerks are on shift; ``walkin_capacity`` of them serve walk-ins
    only; the rest is ``capacity``, bookable by appointment, of which
    ``phone_reserve`` is kept for clerks booking for callers until it is
    released shortly before the slot. The database refuses more bookings than
    capacity, whatever the code above it does.
    """

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="slots")
    local_date = models.DateField(_("date"))  # in Europe/Berlin, for the per-day reads and regeneration
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    counters = models.PositiveSmallIntegerField(_("counters on duty"), default=0)
    walkin_capacity = models.PositiveSmallIntegerField(_("walk-in counters"), default=0)
    capacity = models.PositiveSmallIntegerField(_("bookable capacity"), default=0)
    phone_reserve = models.PositiveSmallIntegerField(_("phone and counter reserve"), default=0)
    booked_online = models.PositiveSmallIntegerField(_("booked online"), default=0)
    booked_phone = models.PositiveSmallIntegerField(_("booked by phone or at the counter"), default=0)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["office", "start"]
        constraints = [
            models.UniqueConstraint(fields=["office", "start"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_start"),
            models.CheckConstraint(
                condition=Q(capacity=F("counters") - F("walkin_capacity")), name="slot_capacity_is_counters_less_walkin"
            ),
            models.CheckConstraint(condition=Q(phone_reserve__lte=F("capacity")), name="slot_reserve_within_capacity"),
            # The invariant: capacity is never exceeded (PRODUCT.md, invariant 1).
            models.CheckConstraint(
                condition=Q(capacity__gte=F("booked_online") + F("booked_phone")), name="slot_booked_within_capacity"
            ),
        ]
        indexes = [
            models.Index(fields=["office", "local_date"]),
            # Availability reads only slots with a free unit (70% of a busy horizon is full).
            models.Index(
                fields=["office", "start"],
                condition=Q(capacity__gt=F("booked_online") + F("booked_phone")),
                name="slot_with_free_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.office} {timezone.localtime(self.start):%d.%m.%Y %H:%M}"

    @property
    def booked(self) -> int:
        return self.booked_online + self.booked_phone


# Booking codes are read out on the phone and typed from paper: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
BOOKING_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
BOOKING_CODE_LENGTH = 8


def new_booking_code() -> str:
    return "".join(secrets.choice(BOOKING_CODE_ALPHABET) for _ in range(BOOKING_CODE_LENGTH))


def new_token() -> str:
    """An unguessable token for links that stand in for a login: 192 random bits."""
    return secrets.token_urlsafe(24)


class Appointment(models.Model):
    """An appointment occupies one unit in each slot from ``start`` to ``end``.

    Units are counted on the slots as ``booked_online`` or ``booked_phone``
    (after ``channel``) while the status is *booked*; appointments needing
    rebooking or cancelled hold none.
    """

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        NEEDS_REBOOKING = "needs_rebooking", _("Needs rebooking")
        CANCELLED = "cancelled", _("Cancelled")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PHONE = "phone", _("By phone or at the counter")

    class Visit(models.TextChoices):
        """How far the citizen got on the day; changed only by desk.services (the rules live there)."""

        EXPECTED = "expected", _("Booked")
        ARRIVED = "arrived", _("Arrived")
        CALLED = "called", _("Called")
        IN_SERVICE = "in_service", _("In service")
        DONE = "done", _("Done")
        NO_SHOW = "no_show", _("No-show")

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    channel = models.CharField(_("booked"), max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.BOOKED)
    booking_code = models.CharField(
        _("booking code"), max_length=BOOKING_CODE_LENGTH, unique=True, default=new_booking_code
    )
    manage_token = models.CharField(_("manage token"), max_length=64, unique=True, default=new_token, editable=False)
    # The hold this appointment was booked from (its token): a hold becomes at most one appointment, and a
    # second confirmation of the same hold (a double click, a retried request) is answered with this one.
    hold_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)  # stored lower-case, as typed
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # The person as the per-person limit compares them (access.identity): "+tag" and Gmail's dots removed, E.164.
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    phone_key = models.CharField(max_length=20, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="de")
    reminders_consent = models.BooleanField(_("reminders wanted"), default=False)
    interpreter_language = models.CharField(_("interpreter for"), max_length=100, blank=True)
    step_free_access = models.BooleanField(_("needs step-free access"), default=False)
    # E-mail confirmation (offices.Office.confirm_email): booked but not final until ``confirmed_at``; an
    # appointment still unconfirmed at ``confirm_by`` is cancelled and its units freed. None: none was asked.
    confirm_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    confirm_by = models.DateTimeField(_("to be confirmed by"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("changes"), default=0)  # raised on every move (iCalendar SEQUENCE)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The day itself, at the clerks' desk.
    visit = models.CharField(_("visit"), max_length=20, choices=Visit.choices, default=Visit.EXPECTED)
    counter = models.PositiveSmallIntegerField(_("counter"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    service_started_at = models.DateTimeField(_("service started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("marked as no-show at"), null=True, blank=True)
    staff_note = models.TextField(_("note of the office"), max_length=1000, blank=True)
    # Set when name, contact, notes and needs of the person were erased (booking.services.retention).
    personal_data_erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="appointment_ends_after_start"),
            # Only a booked appointment can be visited: one that was moved away or cancelled has no visit.
            models.CheckConstraint(
                condition=Q(visit="expected") | Q(status="booked"), name="appointment_visit_only_when_booked"
            ),
            models.CheckConstraint(
                condition=Q(counter__isnull=True) | Q(counter__gte=1), name="appointment_counter_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["office", "start"]),
            models.Index(fields=["office", "status"]),
            models.Index(fields=["email_key", "status"]),
            models.Index(fields=["phone_key", "status"]),
            # The sweep that frees unconfirmed appointments reads only those still waiting.
            models.Index(
                fields=["confirm_by"],
                condition=Q(confirm_by__isnull=False, confirmed_at__isnull=True, status="booked"),
                name="appointment_awaiting_confirm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking_code} {self.office} {timezone.localtime(self.start):%d.%m.%Y %H:%M}"

    @property
    def day_status(self) -> str:
        """The one status the clerks' desk shows: cancelled, to rebook, or how far the visit got."""
        if self.status != self.Status.BOOKED:
            return self.status
        return self.visit

    @property
    def awaiting_confirmation(self) -> bool:
        """Booked online where an e-mail confirmation is asked, and not confirmed yet: not final (also while the
        office has to rebook it)."""
        return self.status != self.Status.CANCELLED and self.confirm_by is not None and self.confirmed_at is None

    @property
    def duration_minutes(self) -> int:
        return int((self.end - self.start).total_seconds()) // 60


class AppointmentService(models.Model):
    """One declared need of an appointment: a service for a number of persons."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="lines")
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="+")
    persons = models.PositiveSmallIntegerField(_("persons"), default=1)
    minutes = models.PositiveSmallIntegerField(_("minutes"))  # the office's duration × persons when booked

    class Meta:
        verbose_name = _("service of an appointment")
        verbose_name_plural = _("services of an appointment")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "service"], name="appointment_service_once"),
            models.CheckConstraint(condition=Q(persons__gte=1), name="appointment_service_persons_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service} × {self.persons}"


# The holder of a hold that keeps a freed time (a citizen's cancellation, a move away) for its pause: the
# waitlist may hand it on first (``waitlist.services``); otherwise it returns to the open calendar when it expires.
FREED_HOLDER = "freed"
# The holder of the holds that keep the urgent contingent (``booking.services.contingent``).
URGENT_HOLDER = "urgent"
# The holder of the holds that keep a time offered to someone on the waitlist (``waitlist.services``).
OFFER_HOLDER = "waitlist"
# Holds of nobody in particular: handed on or released, never given to the waitlist first again.
SYSTEM_HOLDERS = {"", FREED_HOLDER, URGENT_HOLDER, OFFER_HOLDER}


class Hold(models.Model):
    """A time kept for someone who is still typing: it occupies units like an appointment until it expires.

    ``needs`` is what was asked for, as ``[[service_id, persons], ...]``, so the
    appointment made from the hold is exactly what the units were taken for.
    """

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="holds")
    start = models.DateTimeField()
    end = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Appointment.Channel.choices, default=Appointment.Channel.ONLINE)
    needs = models.JSONField(default=list)
    token = models.CharField(max_length=64, unique=True, default=new_token)
    expires_at = models.DateTimeField(db_index=True)
    extensions = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Who holds it (booking.services.appointments.Holder): the client address or API key the caps count, and
    # the browser's session (a hash of its key) for one hold per session and the cool-down. Empty: staff.
    holder = models.CharField(max_length=100, blank=True)
    session = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="hold_ends_after_start")]
        indexes = [
            models.Index(fields=["office", "start"]),
            models.Index(fields=["holder", "expires_at"]),
            models.Index(fields=["session", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.office} {timezone.localtime(self.start):%d.%m.%Y %H:%M} until {self.expires_at:%H:%M:%S}"

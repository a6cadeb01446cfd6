"""What the city offers, where and when: offices, services, hours, closures, holidays, staff on duty.

Texts shown to citizens (names, descriptions, reasons) are translated fields
(see translation.py): ``name`` reads the active language, ``name_de`` and
``name_en`` are the stored columns.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from offices.validators import (
    SLOT_MINUTES_CHOICES,
    counter_numbers,
    release_times,
    validate_counter_list,
    validate_duration,
    validate_release_times,
    validate_time_range,
)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Office(models.Model):
    class Kind(models.TextChoices):
        CITIZEN_OFFICE = "citizen_office", _("Citizen office")
        MOBILE_SITE = "mobile_site", _("Mobile site")
        CIVIL_REGISTRY = "civil_registry", _("Civil registry")
        IMMIGRATION_OFFICE = "immigration_office", _("Immigration office")

    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices, default=Kind.CITIZEN_OFFICE)
    street = models.CharField(_("street and number"), max_length=120)
    postal_code = models.CharField(
        _("postal code"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("A German postal code has five digits."))],
    )
    city = models.CharField(_("city"), max_length=80)
    directions = models.TextField(
        _("how to get there"), blank=True, help_text=_("Public transport, entrance, parking.")
    )
    phone = models.CharField(_("public phone"), max_length=40, blank=True)
    email = models.EmailField(_("public e-mail"), blank=True)
    step_free = models.BooleanField(_("step-free access"), default=False)
    accessibility_notes = models.TextField(
        _("accessibility notes"), blank=True, help_text=_("Lift, accessible toilet, induction loop, parking.")
    )
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"),
        choices=[(m, str(m)) for m in SLOT_MINUTES_CHOICES],
        default=5,
        help_text=_("Appointments start on this grid; durations and opening hours must fit it."),
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text=_("How many days ahead citizens can book."),
    )
    release_time = models.TimeField(
        _("release time"),
        default=datetime.time(7, 0),
        help_text=_("Each day at this time (Berlin time) the next day of the horizon opens for booking."),
    )
    release_first_percent = models.PositiveSmallIntegerField(
        _("share released first (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_(
            "Share of a new day's online capacity that opens at the release time; the rest opens at the times "
            "below, in equal steps. 100: the whole day at once."
        ),
    )
    release_more_at = models.CharField(
        _("rest released at"),
        max_length=60,
        blank=True,
        validators=[validate_release_times],
        help_text=_(
            "Times of the release day (e.g. 12:00, 16:00) at which the rest of the new day opens, so that "
            "nobody has to be first at the release time."
        ),
    )
    urgent_counters = models.PositiveSmallIntegerField(
        _("urgent contingent (counters)"),
        default=0,
        validators=[MaxValueValidator(50)],
        help_text=_(
            "Counters per time kept from the open calendar for urgent cases (e.g. a residence title expiring), "
            "from before a day is released; each morning they are offered to the urgent cases, deadline first. "
            "0: this office takes no urgent cases."
        ),
    )
    urgent_invite_time = models.TimeField(
        _("urgent cases invited at"),
        default=datetime.time(7, 30),
        help_text=_("Each day from this time the urgent contingent's times are offered (Berlin time)."),
    )
    urgent_release_hours = models.PositiveSmallIntegerField(
        _("urgent contingent released (hours before)"),
        default=24,
        help_text=_("This long before a day's first time, what the urgent cases did not use of it opens to everyone."),
    )
    confirm_email = models.BooleanField(
        _("bookings need e-mail confirmation"),
        default=False,
        help_text=_(
            "A booking made online becomes final only once the citizen opens the link sent to the e-mail "
            "address; unconfirmed, its time is freed again. Against bookings with addresses nobody reads. "
            "Bookings made by clerks for callers need none."
        ),
    )
    confirm_within_minutes = models.PositiveSmallIntegerField(
        _("confirmation within (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text=_("How long citizens have to confirm, at most until the appointment begins."),
    )
    phone_share_percent = models.PositiveSmallIntegerField(
        _("phone and counter share (%)"),
        default=20,
        validators=[MaxValueValidator(100)],
        help_text=_("Share of the bookable capacity kept for clerks booking for citizens without internet."),
    )
    phone_release_hours = models.PositiveSmallIntegerField(
        _("phone share released (hours before)"),
        default=48,
        help_text=_("This long before a slot, its phone share opens to online booking."),
    )
    min_notice_minutes = models.PositiveSmallIntegerField(
        _("minimum notice (minutes)"),
        default=30,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text=_("Citizens can book a time online only this long before it starts."),
    )
    walkin_cutoff_minutes = models.PositiveSmallIntegerField(
        _("walk-in tickets stop (minutes before closing)"),
        default=30,
        validators=[MaxValueValidator(12 * 60)],
        help_text=_("No walk-in tickets are drawn this long before the office closes."),
    )
    pickup_counters = models.CharField(
        _("pickup counters"),
        max_length=200,
        blank=True,
        validators=[validate_counter_list],
        help_text=_(
            "Counter numbers that serve the pickup fast lane, separated by commas (e.g. 1, 2). "
            "Empty: every counter serves pickups first."
        ),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive offices are hidden from citizens."))
    services = models.ManyToManyField("Service", through="OfficeService", related_name="offices")
    # Personal data is erased settings.RETENTION_DAYS after the appointment or ticket; an office may keep it longer.
    retention_days = models.PositiveSmallIntegerField(
        _("keep personal data for (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Only where a law requires keeping personal data longer than the city's period. Empty: the city's period."
        ),
    )

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_minutes__in=SLOT_MINUTES_CHOICES), name="office_slot_minutes_on_grid"
            ),
            models.CheckConstraint(condition=Q(phone_share_percent__lte=100), name="office_phone_share_percent"),
            models.CheckConstraint(condition=Q(horizon_days__gte=1), name="office_horizon_at_least_one_day"),
            models.CheckConstraint(
                condition=Q(release_first_percent__gte=1, release_first_percent__lte=100),
                name="office_release_first_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        try:
            given = release_times(self.release_more_at or "")
        except ValueError:
            return  # the field's own validator says what is wrong
        later = [time for time in given if time > self.release_time]
        if len(later) != len(given):
            raise ValidationError(
                {"release_more_at": _("These times must come after the release time, on the same day.")}
            )
        if self.release_first_percent < 100 and not later:  # noqa: PLR2004 - the whole day
            raise ValidationError({"release_more_at": _("Give the times at which the rest of the day opens.")})

    @property
    def release_steps(self) -> list[tuple[datetime.time, int]]:
        """From the release time on, the share (%) of a new day's online units open: ``[(time, percent), ...]``."""
        later = [time for time in release_times(self.release_more_at) if time > self.release_time]
        if self.release_first_percent >= 100 or not later:  # noqa: PLR2004
            return [(self.release_time, 100)]
        rest = 100 - self.release_first_percent
        steps = [(self.release_time, self.release_first_percent)]
        steps += [(time, self.release_first_percent + rest * (n + 1) // len(later)) for n, time in enumerate(later)]
        return steps

    @property
    def pickup_counter_numbers(self) -> frozenset[int]:
        """The counters of the pickup fast lane (empty: none designated)."""
        return counter_numbers(self.pickup_counters)

    @property
    def is_special(self) -> bool:
        return self.kind != self.Kind.CITIZEN_OFFICE


class OfficePart(models.Model):
    """Something configured for one office and checked against the office's slot grid."""

    class Meta:
        abstract = True

    def office_or_none(self) -> Office | None:
        # In the admin's add form the office is the unsaved parent: set, but without an id yet.
        try:
            return self.office
        except Office.DoesNotExist:
            return None


class Category(models.Model):
    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    slug = models.SlugField(_("short name in addresses"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=160)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="services"
    )
    description = models.TextField(_("description"), blank=True)
    what_to_bring = models.TextField(_("what to bring"), blank=True, help_text=_("One item per line."))
    default_duration_minutes = models.PositiveSmallIntegerField(
        _("default duration (minutes)"),
        validators=[MinValueValidator(1, _("The duration must be a positive number of minutes."))],
        help_text=_("Per person. Offices may set their own duration."),
    )
    max_persons = models.PositiveSmallIntegerField(
        _("maximum persons per booking"),
        default=1,
        validators=[
            MinValueValidator(1, _("At least one person must be allowed.")),
            MaxValueValidator(20, _("At most 20 persons can be allowed.")),
        ],
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    pickup = models.BooleanField(
        _("pickup of a finished document"),
        default=False,
        help_text=_("Queue tickets for it go to the pickup fast lane (letter A) instead of the walk-in queue."),
    )
    urgent_within_days = models.PositiveSmallIntegerField(
        _("urgent when the deadline is within (days)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(90)],
        help_text=_(
            "Citizens may ask for this service as an urgent case when their deadline (e.g. a residence title's "
            "end) is past or within this many days. Empty: no urgent cases for it."
        ),
    )
    confirm_email = models.BooleanField(
        _("bookings need e-mail confirmation"),
        default=False,
        help_text=_(
            "At every office, a booking of this service made online becomes final only once the citizen opens "
            "the link sent to the e-mail address (offices can ask it for all their services)."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["category__position", "position", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gt=0), name="service_default_duration_positive"
            ),
            models.CheckConstraint(condition=Q(max_persons__gte=1), name="service_max_persons_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def what_to_bring_items(self) -> list[str]:
        return [line.strip(" -•\t") for line in self.what_to_bring.splitlines() if line.strip(" -•\t")]


class OfficeService(OfficePart):
    """A service offered at an office, with the office's own duration per person."""

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="offered_services"
    )
    service = models.ForeignKey(Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="offered_at")
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration per person (minutes)"),
        blank=True,
        help_text=_("Leave empty to use the service's default duration."),
    )

    class Meta:
        verbose_name = _("offered service")
        verbose_name_plural = _("offered services")
        ordering = ["service__category__position", "service__position", "service__slug"]
        constraints = [
            models.UniqueConstraint(fields=["office", "service"], name="office_service_unique"),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="office_service_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.service} ({self.office})"

    def clean(self) -> None:
        if self.duration_minutes is None and self.service_id is not None:
            self.duration_minutes = self.service.default_duration_minutes
        if (office := self.office_or_none()) is not None:
            validate_duration(self.duration_minutes, office.slot_minutes)


class OpeningHours(OfficePart):
    """One range of a weekday; a day may have several (a lunch break splits it).

    Overlaps between ranges of the same weekday are checked across the whole
    set in the admin's formset (offices.admin), where all ranges are known.
    """

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="opening_hours_close_after_open"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if (office := self.office_or_none()) is not None:
            validate_time_range(self.opens, self.closes, office.slot_minutes)


class SpecialOpening(OfficePart):
    """Hours on one date that replace the weekly hours: an extra Saturday, a mobile site's day.

    A date with special openings is open only in those ranges, even on a public
    holiday; a closure still wins.
    """

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="special_openings"
    )
    date = models.DateField(_("date"))
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))
    note = models.CharField(_("note for citizens"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("special opening")
        verbose_name_plural = _("special openings")
        ordering = ["date", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="special_opening_close_after_open"),
        ]
        indexes = [models.Index(fields=["office", "date"])]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if (office := self.office_or_none()) is not None:
            validate_time_range(self.opens, self.closes, office.slot_minutes)


class Closure(models.Model):
    """The office is closed from start_date to end_date inclusive, whatever else says."""

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="closures")
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    reason = models.CharField(_("reason shown to citizens"), max_length=200)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="closure_ends_after_start"),
        ]
        indexes = [models.Index(fields=["office", "start_date", "end_date"])]

    def __str__(self) -> str:
        if self.start_date == self.end_date:
            return f"{self.start_date:%d.%m.%Y}: {self.reason}"
        return f"{self.start_date:%d.%m.%Y}–{self.end_date:%d.%m.%Y}: {self.reason}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": gettext("The last day cannot be before the first day.")})


class PublicHoliday(models.Model):
    """A public holiday of the configured federal state: every office is closed."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    imported = models.BooleanField(
        _("imported"),
        default=False,
        help_text=_("Imported from the holidays package; a new import replaces these."),
    )

    class Meta:
        verbose_name = _("public holiday")
        verbose_name_plural = _("public holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.name}"


class StartsEndsOnGrid(OfficePart):
    """A time range (``starts``–``ends``) at one office that must lie on the office's slot grid."""

    starts: models.TimeField
    ends: models.TimeField

    class Meta:
        abstract = True

    def clean(self) -> None:
        if (office := self.office_or_none()) is not None:
            validate_time_range(self.starts, self.ends, office.slot_minutes, fields=("starts", "ends"))


class WalkInWindow(StartsEndsOnGrid):
    """Counters kept for walk-ins on a weekday: that capacity is never bookable online."""

    office = models.ForeignKey(
        Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="walk_in_windows"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    counters = models.PositiveSmallIntegerField(
        _("counters"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How many counters serve walk-ins; empty means all."),
    )

    class Meta:
        verbose_name = _("walk-in window")
        verbose_name_plural = _("walk-in windows")
        ordering = ["weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="walk_in_window_ends_after_start"),
            models.CheckConstraint(
                condition=Q(counters__isnull=True) | Q(counters__gte=1), name="walk_in_window_counters_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Block(StartsEndsOnGrid):
    """A time range taken out of an office's capacity by hand: a broken printer, a staff meeting.

    ``counters`` of the counters on duty are out (all of them when empty).
    Appointments that no longer fit are marked for rebooking like after a
    sickness.
    """

    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="blocks")
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    counters = models.PositiveSmallIntegerField(
        _("counters"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("How many counters are out; empty means all."),
    )
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("blocked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("blocked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked time")
        verbose_name_plural = _("blocked times")
        ordering = ["date", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="block_ends_after_start"),
            models.CheckConstraint(
                condition=Q(counters__isnull=True) | Q(counters__gte=1), name="block_counters_positive"
            ),
        ]
        indexes = [models.Index(fields=["office", "date"])]

    def __str__(self) -> str:
        return f"{self.office} {self.date:%d.%m.%Y} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Membership(models.Model):
    """A member of staff works for an office, as a clerk or as its manager."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("Clerk")
        MANAGER = "manager", _("Office manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="memberships"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CLERK)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["user", "office"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.office} ({self.get_role_display()})"


class WeeklyShift(StartsEndsOnGrid):
    """A clerk's regular hours at an office on a weekday; dated shifts are derived from these."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("clerk"), on_delete=models.CASCADE, related_name="weekly_shifts"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="weekly_shifts")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("weekly shift")
        verbose_name_plural = _("weekly shifts")
        ordering = ["user", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="weekly_shift_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Shift(StartsEndsOnGrid):
    """A clerk on duty at an office on a date.

    Shifts derived from the weekly pattern have ``from_pattern`` set and follow
    it when it changes. A shift changed by hand (``from_pattern`` off) fixes
    that clerk's day at that office: derivation leaves the day alone. A shift
    switched off (``active`` off) is a day taken out by hand.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("clerk"), on_delete=models.CASCADE, related_name="shifts"
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.CASCADE, related_name="shifts")
    date = models.DateField(_("date"))
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))
    from_pattern = models.BooleanField(_("from the weekly pattern"), default=False)
    active = models.BooleanField(_("on duty"), default=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["date", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=F("starts")), name="shift_ends_after_start"),
        ]
        indexes = [models.Index(fields=["office", "date"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.date:%d.%m.%Y} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Absence(models.Model):
    """A clerk is away (sick, on vacation, in training) for whole days: their shifts then count for nothing."""

    class Kind(models.TextChoices):
        SICK = "sick", _("Sick")
        VACATION = "vacation", _("Vacation")
        TRAINING = "training", _("Training")
        OTHER = "other", _("Other")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("clerk"), on_delete=models.CASCADE, related_name="absences"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SICK)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    note = models.CharField(_("internal note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="absence_ends_after_start"),
        ]
        indexes = [models.Index(fields=["user", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {self.start_date:%d.%m.%Y}–{self.end_date:%d.%m.%Y}"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": gettext("The last day cannot be before the first day.")})


class Feedback(models.Model):
    """A message sent through the feedback form: a barrier on a page, or anything else, for the administrators."""

    class Kind(models.TextChoices):
        BARRIER = "barrier", _("An accessibility barrier")
        OTHER = "other", _("Something else")

    MESSAGE_MAX_LENGTH = 5000

    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    kind = models.CharField(_("about"), max_length=20, choices=Kind.choices, default=Kind.BARRIER)
    page = models.CharField(
        _("page"), max_length=500, blank=True, help_text=_("The address on this site the message is about.")
    )
    message = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    name = models.CharField(_("name"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    handled = models.BooleanField(_("handled"), default=False)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["barrier", "other"]), name="feedback_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%d.%m.%Y %H:%M}"

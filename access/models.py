"""Who may ask how much: the API keys of integrators (a city portal, the 115 service centre)."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """An integrator's key. Only its SHA-256 is stored; the key itself is shown once, when it is created.

    A request carrying it (``Authorization: Bearer <key>``) is counted against the key's budgets (each
    budget of ``RATE_LIMITS`` times ``budget_scale``) instead of its address's, and needs no proof of work.
    """

    name = models.CharField(
        _("integrator"), max_length=100, help_text=_("Who uses the key, e.g. “115 service centre”.")
    )
    prefix = models.CharField(_("key begins with"), max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    budget_scale = models.PositiveIntegerField(
        _("budget (times a citizen's)"),
        default=20,
        validators=[MinValueValidator(1)],
        help_text=_("Each request budget of this key is this many times what one citizen's address may do."),
    )
    books_for_callers = models.BooleanField(
        _("books for callers"),
        default=False,
        help_text=_(
            "Staff book through this key for people on the phone (e.g. the 115 service centre): their bookings "
            "need no e-mail confirmation, as the clerks' own. Not for a portal where citizens book themselves."
        ),
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Untick to revoke the key at once."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [models.CheckConstraint(condition=models.Q(budget_scale__gte=1), name="api_key_budget_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class UsedProof(models.Model):
    """A proof of work (or a fallback answer) that was accepted once: the same one again is refused (a replay).

    Kept until the challenge it solved has expired anyway (``access.tasks.proofs_forget``).
    """

    signature = models.CharField(max_length=128, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)
    # For the answers to the no-JavaScript question, counted per address and hour (access.proof.question_spend).
    who = models.CharField(max_length=100, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("used proof of work")
        verbose_name_plural = _("used proofs of work")
        indexes = [models.Index(fields=["who", "used_at"])]

    def __str__(self) -> str:
        return self.signature[:12]

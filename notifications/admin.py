from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from buergerservice.admin_dates import SafeDateHierarchyMixin
from notifications import subjects
from notifications.models import Message
from notifications.services import messages_retry


class ScopeFilter(admin.SimpleListFilter):
    """The staff list a message shows in (an office's), named by the subjects' handlers."""

    title = _("shown to")
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [scope for handler in subjects.handlers().values() for scope in handler.scopes()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Message]) -> QuerySet[Message]:
        return queryset.filter(scope=self.value()) if self.value() else queryset


@admin.register(Message)
class MessageAdmin(SafeDateHierarchyMixin):
    """The outbox, read-only: filter by status "failed" to see what did not reach a citizen and why.

    Whatever a message is about, its subject's handler (subjects.py) names its
    kind and subject and finds messages by a subject's key (a booking code).
    """

    list_display = ["created_at", "kind_label", "channel", "recipient", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "subject_type", "kind", "channel", ScopeFilter]
    search_fields = ["=recipient"]
    date_hierarchy = "created_at"
    fields = [
        "subject_type",
        "subject_id",
        "kind",
        "channel",
        "language",
        "recipient",
        "context",
        "scope",
        "at_most_once",
        "once_key",
        "expires_at",
        "status",
        "due_at",
        "attempts",
        "claimed_at",
        "lease_until",
        "last_error",
        "note",
        "sent_at",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Needed for the action; the fields stay read-only.
        return bool(request.user.is_superuser)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Message], search_term: str
    ) -> tuple[QuerySet[Message], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            by_subject = Q()
            for subject_type, handler in subjects.handlers().items():
                matches = handler.search(term)
                if matches is not None:
                    by_subject |= Q(subject_type=subject_type) & matches
            if by_subject:
                found |= queryset.filter(by_subject)
        return found, may_have_duplicates

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, message: Message) -> str:
        return subjects.kind_label(message)

    @admin.display(description=_("subject"))
    def subject(self, message: Message) -> str:
        try:
            return subjects.handler_for(message.subject_type).label(message)
        except LookupError:
            return f"{message.subject_type} {message.subject_id or ''}"

    @admin.action(description=_("Send the selected failed messages again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = messages_retry(message_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)s message will be sent again.", "%(count)s messages will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )

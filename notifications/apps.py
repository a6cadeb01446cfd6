from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Messages to citizens")

    def ready(self) -> None:
        from notifications import checks  # noqa: F401 - registers the deployment check

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    """The city's figures: read-only over every other app, plus nightly snapshots of what would otherwise be lost.

    Named ``stats``, not ``statistics``: a top-level package of that name would shadow the standard library's
    module, which Django's SQLite backend and ``tickets.estimate`` import.
    """

    name = "stats"
    verbose_name = _("Statistics")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo city Musterstadt (``manage.py seed_demo``): on top of every other app, which it fills."""

    name = "demo"
    verbose_name = _("Demo city")

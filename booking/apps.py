from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Appointments and capacity")

    def ready(self) -> None:
        from booking.messages import SUBJECT, AppointmentMessages
        from notifications.subjects import register

        register(SUBJECT, AppointmentMessages())

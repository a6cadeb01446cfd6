from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = _("Appointments and capacity")

    def ready(self) -> None:
        from booking.messages import SUBJECT, AppointmentMessages
        from notifications.subjects import register

        register(SUBJECT, AppointmentMessages())

        from django.db.models.signals import post_delete, post_save

        from booking.models import Slot
        from buergerservice import versions

        def slot_changed(instance: Slot, **kwargs: object) -> None:
            """A slot saved or deleted one by one (the admin, a test): its office's answers are not reused.

            The services write the grid in bulk and bump the version themselves (booking.services.slots).
            """
            versions.grid_changed(instance.office.slug)

        post_save.connect(slot_changed, sender=Slot, dispatch_uid="slot-grid-save", weak=False)
        post_delete.connect(slot_changed, sender=Slot, dispatch_uid="slot-grid-delete", weak=False)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OfficesConfig(AppConfig):
    name = "offices"
    verbose_name = _("Offices and services")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from buergerservice import versions

        def catalogue_changed(**kwargs: object) -> None:
            """Any office, service or setting of theirs saved or deleted: answers computed from them are not reused."""
            versions.bump(versions.CATALOGUE)

        # Every model of this app: the offices, services, offers, opening hours, closures and what plans capacity
        # (a change there that moves slots also rebuilds the grid, which bumps the office's grid version).
        for model in self.get_models():
            post_save.connect(
                catalogue_changed, sender=model, dispatch_uid=f"catalogue-save-{model._meta.label}", weak=False
            )
            post_delete.connect(
                catalogue_changed, sender=model, dispatch_uid=f"catalogue-delete-{model._meta.label}", weak=False
            )
        offers = self.get_model("Office").services.through  # office.services.add() saves no offer one by one
        m2m_changed.connect(catalogue_changed, sender=offers, dispatch_uid="catalogue-offers", weak=False)

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from buergerservice import views
from buergerservice.api import api
from buergerservice.languages import use_language

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("i18n/use/<str:code>/", use_language, name="use-language"),  # the language switch's links
    path("i18n/", include("django.conf.urls.i18n")),
    # The public JSON API is one address for every language: Accept-Language picks the messages' language.
    path("api/v1/", api.urls),
]

# German pages at /, English at /en/ (the admin too: /admin/ and /en/admin/).
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("", include("booking.urls")),
    path("", include("desk.urls")),
    path("", include("tickets.urls")),
    path("", include("waitlist.urls")),
    path("", include("offices.urls")),
    prefix_default_language=False,
)

"""The shipped URLs plus /__floor__/, a minimal Django view: the floor bench/http.py measures every read against.

Only bench/http_settings.py names this module; the product never serves the floor.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from buergerservice.urls import urlpatterns as shipped

# Not included: buergerservice.urls holds i18n_patterns, which Django allows only in the root URLconf.


def floor(request: HttpRequest) -> HttpResponse:
    """Through all middleware like every page, but no database, no template: what one request costs at least."""
    return HttpResponse(b"ok\n", content_type="text/plain")


urlpatterns = [path("__floor__/", floor), *shipped]

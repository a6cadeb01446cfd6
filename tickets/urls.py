from django.urls import path

from tickets.views import kiosk, public, ticket

app_name = "tickets"
urlpatterns = [
    # The kiosk in the office: its address carries its key
    path("kiosk/<str:key>/", kiosk.kiosk, name="kiosk"),
    path("kiosk/<str:key>/ticket/<str:token>/", kiosk.drawn, name="kiosk-ticket"),
    # The ticket on the phone: the short link printed on the ticket and shown as a QR code
    path("w/<str:token>/", ticket.ticket, name="ticket"),
    # The call display in the waiting room, and the public live status ("traffic light")
    path("offices/<slug:slug>/display/", public.display, name="display"),
    path("status/", public.status, name="status"),
    path("status/<slug:slug>/", public.office_status, name="office-status"),
]

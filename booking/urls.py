from django.urls import path

from booking.views import citizen

app_name = "booking"

urlpatterns = [
    # The citizen's way
    path("book/", citizen.needs, name="needs"),
    path("book/where/", citizen.offices, name="offices"),
    path("book/at/<slug:slug>/", citizen.times, name="times"),
    path("book/at/<slug:slug>/hold/", citizen.hold, name="hold"),
    path("book/hold/<str:token>/", citizen.details, name="details"),
    path("book/hold/<str:token>/extend/", citizen.extend, name="extend"),
    path("book/hold/<str:token>/check/", citizen.check, name="check"),
    path("book/confirm/<str:token>/", citizen.confirm, name="confirm"),  # the link asking to confirm the e-mail
    path("appointment/<str:token>/", citizen.manage, name="manage"),
    path("appointment/<str:token>/calendar.ics", citizen.ics, name="ics"),
    path("appointment/<str:token>/cancel/", citizen.cancel, name="cancel"),
    path("appointment/<str:token>/move/", citizen.move, name="move"),
    path("appointment/<str:token>/erase/", citizen.erase, name="erase"),
    path("t/<str:token>/", citizen.short_link, name="short"),  # the link in SMS
]

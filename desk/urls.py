from django.contrib.auth import views as auth_views
from django.urls import path

from desk.views import booking, capacity, day, messages, queue, records, staff, urgent, waitlist

app_name = "desk"

urlpatterns = [
    path("staff/", day.home, name="home"),
    path("staff/login/", auth_views.LoginView.as_view(template_name="desk/staff_login.html"), name="staff-login"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="staff-logout"),
    path("staff/capacity/<slug:slug>/", staff.capacity_overview, name="capacity"),
    path("staff/messages/<slug:slug>/", messages.office_messages, name="office-messages"),
    # The day of an office
    path("staff/desk/<slug:slug>/", day.day, name="day"),
    path("staff/desk/<slug:slug>/counter/", day.counter, name="counter"),
    path("staff/desk/<slug:slug>/print/", records.day_print, name="print"),
    path("staff/desk/<slug:slug>/day.csv", records.day_csv, name="csv"),
    path("staff/desk/<slug:slug>/audit/", records.audit, name="audit"),
    # The queue at the counters
    path("staff/desk/<slug:slug>/queue/", queue.queue, name="queue"),
    path("staff/desk/<slug:slug>/queue/next/", queue.call_next, name="call-next"),
    path("staff/desk/<slug:slug>/queue/urgent/", queue.urgent, name="urgent"),
    path("staff/tickets/<int:pk>/<str:step>/", queue.step, name="ticket-step"),
    # The waitlist of an office (issue 18)
    path("staff/desk/<slug:slug>/waitlist/", waitlist.waitlist, name="waitlist"),
    path("staff/desk/<slug:slug>/urgent/", urgent.urgent, name="urgent-cases"),
    path("staff/desk/<slug:slug>/urgent/<int:pk>/<str:action>/", urgent.urgent_act, name="urgent-case-act"),
    # One appointment
    path("staff/appointments/<int:pk>/", day.appointment, name="appointment"),
    path("staff/appointments/<int:pk>/act/<str:action>/", day.act, name="act"),
    path("staff/appointments/<int:pk>/note/", day.note, name="note"),
    path("staff/appointments/<int:pk>/cancel/", day.cancel, name="cancel"),
    path("staff/appointments/<int:pk>/move/", day.move, name="move"),
    path("staff/appointments/<int:pk>/slip/", booking.slip, name="slip"),
    # Booking for a caller or a visitor without internet: three screens
    path("staff/desk/<slug:slug>/book/", booking.needs, name="book"),
    path("staff/desk/<slug:slug>/book/time/", booking.time, name="book-time"),
    path("staff/desk/<slug:slug>/book/<str:token>/", booking.contact, name="book-contact"),
    # Losing capacity: sickness, blocks, and what is to rebook
    path("staff/desk/<slug:slug>/rebook/", capacity.rebook, name="rebook"),
    path("staff/desk/<slug:slug>/absences/", capacity.absences, name="absences"),
    path("staff/desk/<slug:slug>/blocks/", capacity.blocks, name="blocks"),
    path("staff/desk/<slug:slug>/blocks/<int:pk>/remove/", capacity.block_remove, name="block-remove"),
]

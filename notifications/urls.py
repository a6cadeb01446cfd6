from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("staff/messages/<slug:slug>/", views.office_messages, name="office-messages"),
]

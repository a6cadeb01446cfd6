from django.urls import path

from booking import views

app_name = "booking"

urlpatterns = [
    path("staff/capacity/<slug:slug>/", views.capacity_overview, name="capacity"),
]

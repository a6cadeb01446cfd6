from django.urls import path

from offices import views

app_name = "offices"

urlpatterns = [
    path("", views.home, name="home"),
    path("offices/<slug:slug>/", views.office_detail, name="office"),
    path("services/<slug:slug>/", views.service_detail, name="service"),
]

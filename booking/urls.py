from django.contrib.auth import views as auth_views
from django.urls import path

from booking import views

app_name = "booking"

urlpatterns = [
    path("staff/login/", auth_views.LoginView.as_view(template_name="booking/staff_login.html"), name="staff-login"),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="staff-logout"),
    path("staff/capacity/<slug:slug>/", views.capacity_overview, name="capacity"),
]

from django.urls import path

from waitlist import views

app_name = "waitlist"

urlpatterns = [
    path("waitlist/", views.register, name="register"),
    path("waitlist/urgent/", views.urgent, name="urgent"),
    path("waitlist/confirm/<str:token>/", views.confirm, name="confirm"),
    path("waitlist/offer/<str:token>/", views.offer, name="offer"),
    path("waitlist/<str:token>/", views.registration, name="registration"),
    path("waitlist/<str:token>/change/", views.change, name="change"),
    path("waitlist/<str:token>/withdraw/", views.withdraw, name="withdraw"),
    path("waitlist/<str:token>/resume/", views.resume, name="resume"),
]

from django.urls import path

from offices import views, views_pages

app_name = "offices"

urlpatterns = [
    path("", views.home, name="home"),
    path("offices/<slug:slug>/", views.office_detail, name="office"),
    path("services/<slug:slug>/", views.service_detail, name="service"),
    path("accessibility/", views_pages.accessibility, name="accessibility"),
    path("feedback/", views_pages.feedback, name="feedback"),
    path("feedback/thanks/", views_pages.feedback_thanks, name="feedback-thanks"),
    path("easy/", views_pages.easy_language, name="easy-language"),
    path("privacy/", views_pages.privacy, name="privacy"),
]

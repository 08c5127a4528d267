"""Browsing and downloads; included by models_app/urls.py."""

from django.urls import path

from models_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:username>", views.user_page, name="user_page"),
]

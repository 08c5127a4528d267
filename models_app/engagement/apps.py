from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "models_app.engagement"
    label = "engagement"
    verbose_name = "Likes and download counts"

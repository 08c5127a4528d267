from django.conf import settings


def hub(request):
    return {"site_name": "TransferHub", "debug": settings.DEBUG}

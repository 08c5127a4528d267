"""What the hub remembers of Xet uploads: stored xorbs, registered files, and the dedup index."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_app.models import Blob


class Xorb(models.Model):
    """A verified xorb on disk (``XET_DIR/xorbs``). ``referenced`` is set once a shard names it."""

    hash = models.CharField(max_length=64, primary_key=True)  # the protocol's string form
    size = models.BigIntegerField()  # serialized bytes as uploaded
    unpacked_size = models.BigIntegerField()
    num_chunks = models.IntegerField()
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)
    referenced = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.hash[:12]


class XetFile(models.Model):
    """A file a shard registered: its Xet hash and the blob rebuilt from its xorb ranges."""

    hash = models.CharField(max_length=64, primary_key=True)
    blob = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.hash[:12]


class XetChunk(models.Model):
    """Global dedup index: a chunk the client may ask about, and the xorb holding it."""

    hash = models.CharField(max_length=64, primary_key=True)
    xorb = models.ForeignKey(Xorb, on_delete=models.CASCADE, related_name="indexed_chunks")

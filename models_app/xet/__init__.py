"""Xet storage: the content-addressed upload protocol of the current huggingface_hub (see docs/xet.md)."""

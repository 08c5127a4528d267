"""Engagement: likes and download counts, what people do with a model.

Its own Django app (label ``engagement``) so the hot counters live in their own
tables; likes.py and download_counts.py hold the rules.
"""

"""Repos, their revisions and cards: the base every other capability builds on.

Who may see and write a repo, names and redirects (rules.py), immutable
revisions and refs, file paths, storage quotas, model cards with their YAML
front matter and vocabulary, and the events announced after a change commits.
"""

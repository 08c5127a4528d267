"""The Hugging Face protocol the stock clients speak, under /api/.

Commits, branches and PRs (create_commit, preupload), the LFS batch API and the
objects it announces, HF-shaped errors and schemas. Xet has its own package.
"""

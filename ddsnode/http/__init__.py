"""The HTTP layer: the only package that imports starlette (see ``routes.py``)."""

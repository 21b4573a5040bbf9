"""The explorer's web layer: raw ASGI endpoints and Jinja2 templates (autoescaped)."""

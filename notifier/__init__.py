"""Notices: rendering Jinja2 templates and delivering mail; knows nothing of the engine's tables."""

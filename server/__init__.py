"""Navbat's hub: configuration, queue engine, API, live updates and auth.

This package's import must stay free of Flask and eventlet: `python -m server`
reads the configuration before it decides whether to patch in eventlet.
"""

"""HTTP API (FastAPI): request handling only; see :func:`artistrec.api.app.create_app`."""

"""`uvicorn --factory tests.integration.api_factory:app`: the API built from the environment, as a process."""

from __future__ import annotations

from litestar import Litestar

from backend.app import create_app
from backend.settings import load_settings


def app() -> Litestar:
    """The app for DATABASE_URL and CARETAKER_SECRET_KEY of this process's environment."""
    return create_app(load_settings())

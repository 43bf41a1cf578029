"""Pieces every layer uses: the clock, settings, the words and their formatting, notices.

Nothing here imports `bot/` (entry points and wiring), `handlers/` or `web/`, so use cases,
reports and the web app can import it without a circle."""

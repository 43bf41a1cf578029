"""The rules of a dialog, in plain Python: no aiogram, no database."""

"""A local Telegram Bot API emulator: developer tooling for the tests, the demo and the benchmarks.

It imports nothing from Samspil: the product talks to it over HTTP exactly as to Telegram,
and the tests play the people on the other side (emulator/botapi.py says how). Its public
names are those of `emulator.botapi.__all__`.
"""

from emulator.botapi import *  # noqa: F403
from emulator.botapi import __all__  # noqa: F401

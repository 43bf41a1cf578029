"""`python -m emulator`: the emulator on its own (also `samspil emulator`)."""

from emulator.botapi import main

main()

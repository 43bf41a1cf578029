"""Use cases: one function per thing a person does, one module per flow.

A use case takes the update's session and plain values, applies `rules/`, writes through
`storage/`, queues notices (the `notices` it is given), and returns what happened. It
imports nothing from aiogram or `handlers/`: handlers parse, authorize, call one use case
and render; the CLI and the scheduler call use cases too (tests/test_layout.py checks).
"""

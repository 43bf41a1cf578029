"""aiogram handlers, one module per flow, each declaring its handlers on a module-level
router: a blueprint that `handlers.routers.all_routers()` copies into a fresh tree for
every dispatcher (see handlers/routers.py)."""

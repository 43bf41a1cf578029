"""Names of things every layer shows: roles, age groups, the handbook's three boxes (translated).

Here, below the handlers, so that the PDF reports use the same words as the chat.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from rules.roles import COORDINATOR, NETWORK, PARENT, PARENT_CUSTODY, PROFESSIONAL, YOUNG


def role_label(role: str) -> str:
    return {
        COORDINATOR: _("Coordinator"),
        PARENT_CUSTODY: _("Parent with custody"),
        PARENT: _("Parent without custody"),
        YOUNG: _("The young person"),
        PROFESSIONAL: _("Professional"),
        NETWORK: _("Network"),
    }[role]


def age_group_label(age_group: str) -> str:
    return {"barn": _("child (0-14 years)"), "ung": _("young person (15-30 years)")}[age_group]


def box_title(box: str) -> str:
    """The handbook's three boxes."""
    return {"worries": _("Worries"), "works": _("What works"), "next_steps": _("What should happen?")}[box]

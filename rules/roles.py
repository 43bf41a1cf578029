"""Roles in a dialog and what follows from them."""

from __future__ import annotations

COORDINATOR = "coordinator"
PARENT_CUSTODY = "parent_custody"  # forælder med forældremyndighed
PARENT = "parent"  # forælder uden forældremyndighed
YOUNG = "young"  # den unge selv (15+)
PROFESSIONAL = "professional"  # fagperson
NETWORK = "network"  # netværk: bedsteforælder, træner, nabo ...

ROLES = (COORDINATOR, PARENT_CUSTODY, PARENT, YOUNG, PROFESSIONAL, NETWORK)
# What a coordinator can pick in /inviter, in the order shown.
INVITABLE = (PARENT_CUSTODY, PARENT, YOUNG, PROFESSIONAL, NETWORK)

# Staff roles, given by an administrator's registration link.
STAFF_COORDINATOR = "coordinator"
STAFF_PROFESSIONAL = "professional"
STAFF_ROLES = (STAFF_COORDINATOR, STAFF_PROFESSIONAL)

AGE_GROUPS = ("barn", "ung")


def is_consent_giver(role: str) -> bool:
    """Parents with custody consent for a child; a young person (15+) for themselves."""
    return role in (PARENT_CUSTODY, YOUNG)


def is_family(role: str) -> bool:
    """Family and network: people reached in their free time (quiet hours apply)."""
    return role in (PARENT_CUSTODY, PARENT, YOUNG, NETWORK)


def asks_relation(role: str) -> bool:
    """Whether /inviter asks for a relation or title shown beside the name.

    The young person is simply "the young person"; everyone else is known by how
    they stand to the child ("Mor", "Morfar", "Klasselærer").
    """
    return role != YOUNG

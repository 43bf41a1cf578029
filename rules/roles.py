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

# Telegram's terms: users in the EU must be at least 16. The method lets a young person of 15
# take part; they (and anyone else without Telegram) take part through the coordinator.
TELEGRAM_MIN_AGE = 16


def is_consent_giver(role: str) -> bool:
    """Parents with custody consent for a child; a young person (15+) for themselves."""
    return role in (PARENT_CUSTODY, YOUNG)


def is_family(role: str) -> bool:
    """Family and network: people reached in their free time (quiet hours apply)."""
    return role in (PARENT_CUSTODY, PARENT, YOUNG, NETWORK)


def under_telegram_age(role: str, age_group: str) -> bool:
    """Known without asking that the person is too young for Telegram: the child of a dialog about
    a child (0-14 years) invited as "the young person"."""
    return role == YOUNG and age_group == "barn"


def asks_telegram_age(role: str, age_group: str) -> bool:
    """Whether /inviter asks "Is the young person under 16?" before making a link: the young
    person of a dialog about a young person (15-30 years) may be 15."""
    return role == YOUNG and not under_telegram_age(role, age_group)


def asks_relation(role: str) -> bool:
    """Whether /inviter asks for a relation or title shown beside the name.

    The young person is simply "the young person"; everyone else is known by how
    they stand to the child ("Mor", "Morfar", "Klasselærer").
    """
    return role != YOUNG

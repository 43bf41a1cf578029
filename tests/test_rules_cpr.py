"""CPR numbers must be caught before anything is stored; ordinary numbers must pass."""

import pytest

from rules.cpr import contains_cpr


@pytest.mark.parametrize(
    "text",
    [
        "010190-1234",
        "0101901234",
        "010190 1234",
        "010190–1234",  # en dash
        "010190‑1234",  # non-breaking hyphen
        "010190—1234",  # em dash
        "010190 - 1234",
        "010190\u00a01234",  # no-break space
        "Hans CPR er 241299-1234, tak.",
        "cpr:0101901234.",
        "(310101-4321)",
        "«290290-1111»",  # 29 February: the century is unknown
        "290201-1111",  # 29 February in a year that may be 1901 or 2001: still flagged
        "311299-0000",
        "Født 150615-2345 på Rigshospitalet",
        "710190-1234",  # erstatningspersonnummer: day 11 + 60
        "910190-1234",  # day 31 + 60
        "abc0101901234def",
        "nr. 0101901234\n",
        "Første linje\n120389-4567\nsidste linje",
        "Telefon 12345678 og cpr 010203-4455",
        "+45 12345678 / 0101901234",
        "999999 010190-1234",  # an invalid candidate must not hide a valid one
        "٠١٠١٩٠١٢٣٤",  # Arabic-Indic digits
    ],
)
def test_detects_cpr(text: str) -> None:
    assert contains_cpr(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ring på 12 34 56 78",
        "12345678",
        "+45 12345678",
        "+4512345678",
        "+4501019012",  # ten digits after "+": a phone number
        "Mødet er 12.03.2027 kl. 14",
        "12/03/2027",
        "kl. 14:30-16:00",
        "1.500 kr",
        "Det koster 12.500,00 kr.",
        "Konto 12345678901234",
        "0101901234567",  # a longer number is not a CPR
        "10101901234",  # eleven digits
        "DK5000400440116243",  # IBAN
        "320190-1234",  # day 32
        "000190-1234",  # day 0
        "011390-1234",  # month 13
        "010090-1234",  # month 0
        "310490-1234",  # 31 April
        "300290-1234",  # 30 February
        "920190-1234",  # day 92 - 60 = 32
        "600190-1234",  # day 60 is neither real nor + 60
        "010190-123",  # too few digits
        "01019-01234",
        "010190--1234",
        "01 01 90 12 34",
        "2026-11-22",
        "Postnummer 4690 Haslev",
        "Ordre 123456",
        "1234 5678 9012 3456",  # card number in fours
        "Barnet er 7 år og går i 1. klasse",
    ],
)
def test_ignores_other_numbers(text: str) -> None:
    assert not contains_cpr(text)


def test_every_day_of_a_leap_year_is_a_valid_birth_date() -> None:
    from datetime import date, timedelta

    day = date(2000, 1, 1)
    while day.year == 2000:
        assert contains_cpr(day.strftime("%d%m%y") + "-1234"), day
        day += timedelta(days=1)

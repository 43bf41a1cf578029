"""The dialog configuration: defaults, the ruler's arithmetic, and clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rules.dialog_config import (
    DEFAULT_CONFIG_PATH,
    ConfigError,
    DialogConfig,
    load_dialog_config,
)

EXPECTED_AREAS = [  # the areas families most often write about first
    ("family", "Familieforhold", "Family relations"),
    ("school", "Dagtilbud, skole og læring", "Day care, school and learning"),
    ("development", "Udvikling og adfærd", "Development and behaviour"),
    ("health", "Sundhedsforhold", "Health"),
    ("leisure", "Fritidsforhold og venskaber", "Leisure and friendships"),
    ("network", "Socialt netværk", "Social network"),
    # The ICS areas about the care at home, named for what the child needs (issue #12):
    # "Trygt omsorgsmiljø", "Stimulering og vejledning", "Understøttelse af relationer".
    ("safety", "Tryghed i hverdagen", "Feeling safe every day"),
    ("stimulation", "Leg, læring og grænser", "Play, learning and limits"),
    ("relations", "Barnets vigtige personer", "The people who matter to the child"),
    ("housing", "Bolig, beskæftigelse og økonomi", "Housing, employment and finances"),
]
FIELD_NAMES = {
    "barn": ("Almen – barnet trives", "General – the child is doing well"),
    "ung": ("Almen – den unge trives", "General – the young person is doing well"),
}
FIELD_NAMES_AFTER = [
    ("Let bekymring", "Slight concern"),
    ("Bekymring", "Concern"),
    ("Alvorlig bekymring", "Serious concern"),
    ("Akut bekymring", "Acute concern"),
]


@pytest.fixture(scope="module")
def config() -> DialogConfig:
    return load_dialog_config()


# --- the default file --------------------------------------------------------


def test_default_areas_in_order(config: DialogConfig) -> None:
    assert [(a.key, a.label_da, a.label_en) for a in config.areas] == EXPECTED_AREAS
    assert all(len(a.key.encode()) <= 16 for a in config.areas)


def test_every_default_area_has_a_short_plain_explanation(config: DialogConfig) -> None:
    for area in config.areas:
        for locale in ("da", "en"):
            line = area.explanation(locale)
            assert line and "\n" not in line and len(line) <= 90, (area.key, locale)
        assert area.explanation("da") != area.explanation("en")
    # Optional: an area without one is valid and explains nothing.
    bare = DialogConfig.model_validate({**config.model_dump(), "areas": [
        {"key": "home", "label_da": "Hjemmet", "label_en": "Home"}]})
    assert bare.areas[0].explanation("da") == bare.areas[0].explanation("en") == ""


def test_default_path_is_next_to_the_module(config: DialogConfig) -> None:
    assert DEFAULT_CONFIG_PATH.name == "dialog_config.toml"
    assert load_dialog_config(DEFAULT_CONFIG_PATH) == config
    assert load_dialog_config(str(DEFAULT_CONFIG_PATH)) == config


def test_area_lookup_and_labels(config: DialogConfig) -> None:
    area = config.area("school")
    assert area.label() == "Dagtilbud, skole og læring"
    assert area.label("da") == "Dagtilbud, skole og læring"
    assert area.label("en") == "Day care, school and learning"
    assert area.label("en-GB") == "Day care, school and learning"
    assert area.label("EN_us") == "Day care, school and learning"
    assert area.label("de") == "Dagtilbud, skole og læring"  # unknown: Danish
    assert area.label("") == "Dagtilbud, skole og læring"
    with pytest.raises(KeyError):
        config.area("nope")


@pytest.mark.parametrize(
    ("age_group", "name_da", "name_en", "subject"),
    [
        ("barn", "Børnelinealen", "The children's ruler", "Barnet"),
        ("ung", "Ungelinealen", "The young people's ruler", "Den unge"),
    ],
)
def test_default_rulers(
    config: DialogConfig, age_group: str, name_da: str, name_en: str, subject: str
) -> None:
    ruler = config.ruler(age_group)
    assert ruler.name() == ruler.name("da") == name_da
    assert ruler.name("en") == name_en
    assert [(f.name("da"), f.name("en")) for f in ruler.fields] == [FIELD_NAMES[age_group], *FIELD_NAMES_AFTER]
    assert [(f.low, f.high) for f in ruler.fields] == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]
    assert [f.emoji for f in ruler.fields] == ["🟩", "🟨", "🟧", "🟥", "🟪"]
    for field in ruler.fields:
        assert re.fullmatch(r"#[0-9A-F]{6}", field.colour)
        assert field.description("da").startswith(subject)
        assert field.description("en") != field.description("da")
        assert 0 < len(field.description("da")) < 200


def test_unknown_age_group(config: DialogConfig) -> None:
    with pytest.raises(KeyError):
        config.ruler("voksen")


@pytest.mark.parametrize(
    ("score", "name", "highest"),
    [
        (1, "Almen – ", False),
        (2, "Almen – ", False),
        (3, "Let bekymring", False),
        (4, "Let bekymring", False),
        (5, "Bekymring", False),
        (6, "Bekymring", False),
        (7, "Alvorlig bekymring", False),
        (8, "Alvorlig bekymring", False),
        (9, "Akut bekymring", True),
        (10, "Akut bekymring", True),
    ],
)
def test_field_for_every_score(config: DialogConfig, score: int, name: str, highest: bool) -> None:
    for age_group in ("barn", "ung"):
        ruler = config.ruler(age_group)
        field = ruler.field_for(score)
        assert field.name("da") == name or name.endswith(" ") and field.name("da").startswith(name)
        assert field.low <= score <= field.high
        assert ruler.is_highest_field(score) is highest


@pytest.mark.parametrize("score", [0, 11, -1, 100, True, 5.0, "5"])
def test_field_for_rejects_scores_outside_the_ruler(config: DialogConfig, score: object) -> None:
    ruler = config.ruler("barn")
    with pytest.raises(ValueError):
        ruler.field_for(score)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ruler.bar(score)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ruler.is_highest_field(score)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "bar"),
    [
        (1, "🟩⬜⬜⬜⬜⬜⬜⬜⬜⬜"),
        (4, "🟩🟩🟨🟨⬜⬜⬜⬜⬜⬜"),
        (7, "🟩🟩🟨🟨🟧🟧🟥⬜⬜⬜"),
        (10, "🟩🟩🟨🟨🟧🟧🟥🟥🟪🟪"),
    ],
)
def test_bar(config: DialogConfig, score: int, bar: str) -> None:
    assert config.ruler("barn").bar(score) == bar
    assert len(config.ruler("ung").bar(score)) == 10


def test_config_is_immutable(config: DialogConfig) -> None:
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        config.areas[0].key = "other"  # type: ignore[misc]


# --- validation errors ---------------------------------------------------------

AREA = """
[[areas]]
key = "{key}"
label_da = "{label_da}"
label_en = "Health"
"""
FIELD = """
[[rulers.{group}.fields]]
low = {low}
high = {high}
name_da = "Felt"
name_en = "Field"
description_da = "Beskrivelse."
description_en = "Description."
colour = "{colour}"
emoji = "🟩"
"""
DEFAULT_SPANS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]


def ruler_toml(group: str, spans=DEFAULT_SPANS, colour: str = "#2E9E44", name_da="Linealen") -> str:
    head = f'\n[rulers.{group}]\nname_da = "{name_da}"\nname_en = "The ruler"\n'
    return head + "".join(
        FIELD.format(group=group, low=low, high=high, colour=colour) for low, high in spans
    )


def config_toml(
    areas: str | None = None,
    barn: str | None = None,
    ung: str | None = None,
) -> str:
    if areas is None:
        areas = AREA.format(key="health", label_da="Sundhedsforhold")
    if barn is None:
        barn = ruler_toml("barn")
    if ung is None:
        ung = ruler_toml("ung")
    return areas + barn + ung


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "kommune.toml"
    path.write_text(content, encoding="utf-8")
    return path


def error_for(tmp_path: Path, content: str) -> str:
    path = write(tmp_path, content)
    with pytest.raises(ConfigError) as excinfo:
        load_dialog_config(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "\n" not in message
    return message


def test_a_minimal_valid_file_loads(tmp_path: Path) -> None:
    config = load_dialog_config(write(tmp_path, config_toml()))
    assert [a.key for a in config.areas] == ["health"]
    assert config.ruler("ung").field_for(10).colour == "#2E9E44"


def test_colour_is_normalised_to_upper_case(tmp_path: Path) -> None:
    content = config_toml(barn=ruler_toml("barn", colour="#abcdef"))
    assert load_dialog_config(write(tmp_path, content)).ruler("barn").fields[0].colour == "#ABCDEF"


def test_uneven_fields_are_allowed_when_they_cover_the_ruler(tmp_path: Path) -> None:
    content = config_toml(barn=ruler_toml("barn", spans=[(1, 3), (4, 8), (9, 9), (10, 10)]))
    ruler = load_dialog_config(write(tmp_path, content)).ruler("barn")
    assert ruler.is_highest_field(10) and not ruler.is_highest_field(9)
    assert ruler.field_for(3) is ruler.fields[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (config_toml(areas="areas = []\n"), "at least one input area"),
        (
            config_toml(
                areas=AREA.format(key="health", label_da="A")
                + AREA.format(key="health", label_da="B")
            ),
            "'health' is used by more than one area",
        ),
        (
            config_toml(areas=AREA.format(key="Health", label_da="A")),
            "areas[0].key: key 'Health' must be",
        ),
        (config_toml(areas=AREA.format(key="a-b", label_da="A")), "key 'a-b' must be"),
        (config_toml(areas=AREA.format(key="x" * 17, label_da="A")), "must be 1-16 characters"),
        (config_toml(areas=AREA.format(key="", label_da="A")), "must be 1-16 characters"),
        (
            config_toml(areas=AREA.format(key="sundhed", label_da="  ")),
            "areas[0].label_da: must not be empty",
        ),
        (
            config_toml(areas='[[areas]]\nkey = "health"\nlabel_da = "Sundhed"\n'),
            "areas[0].label_en: is missing",
        ),
        (
            config_toml(areas=AREA.format(key="health", label_da="A") + 'lable_en = "x"\n'),
            "areas[0].lable_en: is not a known setting",
        ),
        (config_toml(ung=""), "the ruler for age group 'ung' is missing"),
        (config_toml(barn=""), "the ruler for age group 'barn' is missing"),
        (config_toml() + ruler_toml("voksen"), "unknown age group 'voksen'"),
        (
            config_toml(barn=ruler_toml("barn", spans=[(1, 2), (3, 4), (5, 6), (7, 8)])),
            "rulers.barn: the fields end at 8 but must cover up to 10",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(1, 2), (4, 6), (7, 8), (9, 10)])),
            "starts at 4 but should start at 3: it leaves a gap",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(1, 3), (3, 6), (7, 8), (9, 10)])),
            "starts at 3 but should start at 4: it overlaps",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(3, 4), (1, 2), (5, 6), (7, 8), (9, 10)])),
            "starts at 3 but should start at 1",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(2, 2), (3, 10)])),
            "starts at 2 but should start at 1",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(1, 5), (6, 11)])),
            "rulers.barn.fields[1]: low=6, high=11 must satisfy 1 <= low <= high <= 10",
        ),
        (
            config_toml(barn=ruler_toml("barn", spans=[(1, 5), (7, 6), (7, 10)])),
            "low=7, high=6",
        ),
        (
            config_toml(barn='[rulers.barn]\nname_da = "L"\nname_en = "R"\nfields = []\n'),
            "rulers.barn: a ruler needs at least one field",
        ),
        (config_toml(barn=ruler_toml("barn", spans=[])), "rulers.barn.fields: is missing"),
        (
            config_toml(barn=ruler_toml("barn", colour="green")),
            "colour 'green' must be a hex colour",
        ),
        (
            config_toml(barn=ruler_toml("barn", colour="#12345")),
            "colour '#12345' must be a hex colour",
        ),
        (config_toml(barn=ruler_toml("barn", colour="#GGGGGG")), "colour '#GGGGGG'"),
        (
            config_toml(barn=ruler_toml("barn", name_da="")),
            "rulers.barn.name_da: must not be empty",
        ),
        (
            config_toml().replace("low = 1\n", 'low = "en"\n', 1),
            "rulers.barn.fields[0].low: input should be a valid integer",
        ),
        (config_toml().replace('emoji = "🟩"', 'emoji = ""', 1), "emoji: must not be empty"),
        ("", "areas: is missing"),
    ],
)
def test_validation_errors_name_the_problem(tmp_path: Path, content: str, expected: str) -> None:
    assert expected in error_for(tmp_path, content)


def test_several_problems_are_counted_on_one_line(tmp_path: Path) -> None:
    content = config_toml(areas=AREA.format(key="Bad", label_da=""))
    message = error_for(tmp_path, content)
    assert "(and 1 more problem(s))" in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    content = config_toml().replace('label_en = "Health"', "label_en = Health", 1)
    message = error_for(tmp_path, content)
    assert "TOML syntax error" in message
    assert re.search(r"line \d+", message)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="missing.toml: cannot read the file"):
        load_dialog_config(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[areas]]\nkey = "a"\nlabel_da = "\xf8"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_dialog_config(path)

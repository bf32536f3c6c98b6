"""Rounding as a township's summary rounds, and the paragraph built from the year figures (no app)."""

from decimal import Decimal

import pytest

from inspection.reporting.figures import empty_figures
from inspection.reporting.summary_zh import approx_m2, approx_mu, round_sig, we_of, year_summary
from inspection.vocab import M2_PER_MU

EXAMPLE = (
    "今年以来，我镇依法拆除违法建筑2处约380㎡，复耕面积约120余亩，整改完成上级反馈问题5个。"
    "巡查发现环保问题4个，整改完成4个。"
)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (378.6, "380"),
        (375.0, "380"),  # half up, not to even
        (52.3, "52"),
        (0.0, "0"),
        (-3.0, "0"),
        (995.0, "1000"),
        (3.44, "3.4"),
    ],
)
def test_round_sig_keeps_two_significant_figures_half_up(value, rounded):
    assert round_sig(value) == Decimal(rounded)


@pytest.mark.parametrize(
    ("area_m2", "text"),
    [
        (380.4, "约380㎡"),
        (379.2, "约380㎡"),
        (378.6, "约380㎡"),
        (384.9, "约380㎡"),
        (385.0, "约390㎡"),
        (52.3, "约52㎡"),
        (7.26, "约7.3㎡"),
        (1234.0, "约1200㎡"),
        (1530.0, "约1500㎡"),
        (9960.0, "约1万㎡"),
        (12345.0, "约1.2万㎡"),
        (150000.0, "约15万㎡"),
    ],
)
def test_approx_m2(area_m2, text):
    assert approx_m2(area_m2) == text


def test_approx_m2_can_write_the_unit_as_the_summary_does():
    assert approx_m2(380.4, unit="m²") == "约380m²"


@pytest.mark.parametrize(
    ("area_mu", "text"),
    [
        (120.4, "约120余亩"),
        (124.9, "约120余亩"),
        (120.0, "约120亩"),
        (120.004, "约120亩"),  # nothing more to show at 2 decimals
        (119.6, "约120亩"),
        (125.0, "约130亩"),
        (45.3, "约45余亩"),
        (45.6, "约46亩"),
        (10.4, "约10余亩"),
        (3.44, "约3.4亩"),  # below 10 亩 the decimal is written, no 余
        (0.26, "约0.26亩"),
        (1234.0, "约1200余亩"),
        (12345.0, "约1.2万余亩"),
    ],
)
def test_approx_mu(area_mu, text):
    assert approx_mu(area_mu) == text


@pytest.mark.parametrize(
    ("town", "we"),
    [("平岗镇", "我镇"), ("石门乡", "我乡"), ("城关街道", "我街道"), (None, "我镇")],
)
def test_we_of(town, we):
    assert we_of(town) == we


def figures(
    demolished=0,
    demolished_m2=0.0,
    restored=0,
    restored_mu=0.0,
    superior=0,
    patrol_found=0,
    patrol_done=0,
) -> dict:
    """Town figures with the counts the summary reads."""
    f = empty_figures()
    f["illegal_buildings"].update(demolished=demolished, demolished_area_m2=demolished_m2)
    f["farmland"].update(
        restored=restored, restored_area_m2=restored_mu * M2_PER_MU, restored_area_mu=restored_mu
    )
    f["issues"]["superior"]["rectified"] = superior
    f["issues"]["patrol_environment"].update(found=patrol_found, rectified=patrol_done)
    return f


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            dict(demolished=2, demolished_m2=378.6, restored=3, restored_mu=120.4, superior=5)
            | dict(patrol_found=4, patrol_done=4),
            EXAMPLE,
        ),
        (
            dict(restored=3, restored_mu=119.6, superior=5, patrol_found=4, patrol_done=4),
            "今年以来，我镇复耕面积约120亩，整改完成上级反馈问题5个。巡查发现环保问题4个，整改完成4个。",
        ),
        (
            dict(demolished=1, demolished_m2=52.3),
            "今年以来，我镇依法拆除违法建筑1处约52㎡。",
        ),
        (dict(demolished=2), "今年以来，我镇依法拆除违法建筑2处。"),  # points with no area
        (dict(restored=2), "今年以来，我镇复耕地块2块。"),
        (dict(patrol_found=4, patrol_done=4), "今年以来，我镇巡查发现环保问题4个，整改完成4个。"),
        (dict(patrol_found=3), "今年以来，我镇巡查发现环保问题3个。"),
        (dict(patrol_done=2), "今年以来，我镇整改完成巡查发现的环保问题2个。"),
        ({}, ""),
    ],
    ids=[
        "example",
        "no-buildings",
        "buildings-only",
        "no-area",
        "no-mu",
        "patrol",
        "found",
        "done",
        "nothing",
    ],
)
def test_year_summary_leaves_out_zero_clauses(kwargs, text):
    assert year_summary(figures(**kwargs)) == text


def test_year_summary_speaks_as_the_town():
    text = year_summary(figures(superior=1), we="我乡", opening="2021年")

    assert text == "2021年，我乡整改完成上级反馈问题1个。"


def test_the_staffing_sentences_open_the_paragraph_and_lead_the_patrol_sentence():
    from inspection.reporting.summary_zh import grid_clause

    figures = {**example_figures_for_staffing(), "certified_officers": 14}
    figures["grid"] = {"villages": 5, "groups": 18, "grid_members": 18}

    text = year_summary(figures)

    assert text.startswith(
        "我镇组织执法人员参加行政执法资格考试，其中有14名执法人员取得行政执法证。今年以来，"
    )
    assert text.endswith(
        "全镇划分5个村、18个村民小组，配备18名网格员，巡查发现环保问题4个，整改完成4个。"
    )
    assert grid_clause({"villages": 2, "groups": 0, "grid_members": 0}) == "全镇划分2个村"
    assert grid_clause(
        {"towns": 3, "villages": 24, "groups": 1, "grid_members": 1}, whole="全县"
    ) == ("全县划分3个镇、24个村、1个村民小组，配备1名网格员")
    assert year_summary({**figures, "certified_officers": 0}).startswith("今年以来")


def example_figures_for_staffing() -> dict:
    from inspection.reporting.figures import empty_figures

    figures = empty_figures()
    figures["issues"]["patrol_environment"] = {"found": 4, "rectified": 4}
    return figures

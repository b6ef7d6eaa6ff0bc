"""Schedules: each strategy resolves to the right dated events, windows move with their anchors, and every
mistake is a clear error."""

import pytest

from tumour_abm.config_files import ConfigError
from tumour_abm.scenario import Scenario
from tumour_abm.therapy.schedule import TherapyParams, resolve_events


def events(therapy: dict, kind=None):
    return [(e.day, e.product) for e in resolve_events(TherapyParams.model_validate(therapy))
            if kind is None or e.kind == kind]


def selinexor_days(therapy):
    return [day for day, product in events(therapy) if product == "selinexor"]


TWICE_WEEKLY = {"dose_mg": 60.0, "days_of_week": [1, 3]}


def test_pre_treatment_concurrent_and_washout_windows_relative_to_car_t():
    car_t = {"day": 21, "count": 10}
    pre = {"car_t": car_t, "selinexor": {**TWICE_WEEKLY, "start_day": -21, "end_day": -1, "relative_to": "car_t"}}
    assert selinexor_days(pre) == [0, 2, 7, 9, 14, 16]
    concurrent = {"car_t": car_t, "selinexor": {**TWICE_WEEKLY, "start_day": 0, "end_day": 20, "relative_to": "car_t"}}
    assert selinexor_days(concurrent) == [21, 23, 28, 30, 35, 37]
    # A washout: pre-treatment ending a week before the infusion.
    washout = {"car_t": car_t, "selinexor": {**TWICE_WEEKLY, "start_day": -21, "end_day": -8, "relative_to": "car_t"}}
    assert selinexor_days(washout) == [0, 2, 7, 9]


def test_bridging_then_maintenance_is_two_courses():
    therapy = {
        "car_t": {"day": 28, "count": 10},
        "selinexor": [
            {"dose_mg": 40.0, "every_days": 7, "start_day": -21, "end_day": -7, "relative_to": "car_t"},
            {"dose_mg": 60.0, "every_days": 7, "start_day": 14, "end_day": 42, "relative_to": "car_t"},
        ],
    }
    resolved = resolve_events(TherapyParams.model_validate(therapy))
    doses = [(e.day, e.amount) for e in resolved if e.product == "selinexor"]
    assert doses == [(7, 40), (14, 40), (21, 40), (42, 60), (49, 60), (56, 60), (63, 60), (70, 60)]
    assert [(e.day, e.kind) for e in resolved if e.product == "car_t"] == [(28, "infusion")]


def test_windows_move_with_their_anchor():
    def pre(car_t_day):
        return selinexor_days({"car_t": {"day": car_t_day, "count": 5},
                               "selinexor": {**TWICE_WEEKLY, "start_day": -14, "end_day": -1, "relative_to": "car_t"}})
    assert [d + 10 for d in pre(20)] == pre(30)
    # Anchors chain: rituximab a week after the first selinexor dose, which is relative to CAR-T.
    chained = events({"car_t": {"day": 30, "count": 5},
                      "selinexor": {**TWICE_WEEKLY, "start_day": -14, "end_day": -1, "relative_to": "car_t"},
                      "rituximab": {"start_day": 7, "relative_to": "selinexor"}})
    assert (23.0, "rituximab") in chained


def test_single_doses_and_intervals():
    assert selinexor_days({"selinexor": {"dose_mg": 80.0, "start_day": 3}}) == [3]
    assert selinexor_days({"selinexor": {"dose_mg": 80.0, "every_days": 2.5, "start_day": 0, "end_day": 10}}) == [
        0, 2.5, 5, 7.5, 10]


@pytest.mark.parametrize(
    "therapy, fragment",
    [
        ({"selinexor": {**TWICE_WEEKLY, "start_day": -7, "end_day": -1, "relative_to": "car_t"}},
         "relative_to 'car_t', but the scenario gives no car_t"),
        ({"selinexor": {**TWICE_WEEKLY, "start_day": 5, "end_day": 2}}, "is before start_day"),
        ({"selinexor": {"dose_mg": 0.0, "start_day": 0}}, "dose_mg = 0.0: must be > 0"),
        ({"selinexor": {"dose_mg": -40.0, "start_day": 0}}, "dose_mg = -40.0: must be > 0"),
        ({"selinexor": {"dose_mg": 60.0, "days_of_week": [1, 8]}}, "not weekdays 1-7"),
        ({"selinexor": {"dose_mg": 60.0, "days_of_week": [1], "every_days": 7}}, "not both"),
        ({"rituximab": {"relative_to": "anti_pd1"}, "anti_pd1": {"relative_to": "rituximab"}}, "cycle"),
        ({"selinexr": {"dose_mg": 60.0}}, "did you mean 'selinexor'"),
    ],
    ids=["unknown-anchor", "window-ends-first", "zero-dose", "negative-dose", "bad-weekday", "both-rhythms", "cycle",
         "misspelt-product"],
)
def test_schedule_mistakes_are_clear_errors(tmp_path, therapy, fragment):
    import yaml

    from tumour_abm.scenario import load_scenario

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"nk": {"initial_count": 5}, "car_t": {"initial_count": 0}, "therapy": therapy}))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert fragment in str(err.value) and "bad.yaml" in str(err.value)


@pytest.mark.parametrize(
    "updates, fragment",
    [
        ({"therapy.anti_pd1": ({"start_day": 0.0},)}, "therapy.anti_pd1: acts on CAR-T and CD8 T cells"),
        ({"therapy.anti_nkg2a": ({"start_day": 0.0},)}, "therapy.anti_nkg2a: blocks NKG2A on NK, CAR-T and CD8 T cells"),
        ({"therapy.rituximab": ({"start_day": 0.0},)}, "therapy.rituximab: works through NK cells (ADCC) or macrophages"),
        ({"therapy.rituximab": ({"start_day": 0.0},), "nk.initial_count": 5,
          "cancer.antigens": {"CD19": {"positive_fraction": 1.0, "level": 1.0}}},
         "therapy.rituximab: targets CD20, which no cancer cell"),
        ({"therapy.selinexor": ({"dose_mg": 60.0, "start_day": -3.0},)}, "therapy.selinexor: a dose on day -3 is before the run starts"),
    ],
    ids=["pd1-without-car-t", "nkg2a-without-nk", "antibody-without-effectors", "antibody-without-antigen",
         "dose-before-start"],
)
def test_therapies_for_cells_the_scenario_lacks_are_errors(updates, fragment):
    with pytest.raises(ConfigError) as err:
        Scenario().with_updates(updates)
    assert fragment in str(err.value)

"""Reading parameter files: every problem reported once, with the file and line it came from."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from tumour_abm.config_files import ConfigError, Problem, dump_yaml, load_model, read_yaml_tree, validate_model
from tumour_abm.params import Params
from tumour_abm.scenario import Scenario


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, overrides: dict | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_model(Scenario, path, overrides)
    return info.value.problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


GOOD = """\
description: small test
grid:
  width_sites: 40
  height_sites: 30
time:
  days: 7          # an int where a float is declared
cancer:
  initial_cells: 200
  layout: scattered
  antigens:
    CD19: {positive_fraction: 0.5, level: 2.0}
output:
  snapshot_days: [0, 3.5, 7]
"""


# 1 -------------------------------------------------------------------------------------------------------------


def test_good_file_sets_values_and_keeps_defaults(tmp_path):
    scenario = load_model(Scenario, write(tmp_path, "good.yaml", GOOD))
    assert scenario.description == "small test"
    assert (scenario.grid.width_sites, scenario.grid.height_sites) == (40, 30)
    assert scenario.time.days == 7.0
    assert scenario.cancer.initial_cells == 200 and scenario.cancer.layout == "scattered"
    assert scenario.cancer.antigens["CD19"].positive_fraction == 0.5
    assert scenario.output.snapshot_days == (0.0, 3.5, 7.0)
    default = Scenario()
    assert scenario.time.dt_min == default.time.dt_min
    assert scenario.cancer.doubling_time_h == default.cancer.doubling_time_h
    assert scenario.grid.site_um == default.grid.site_um


def test_dump_yaml_round_trips(tmp_path):
    scenario = load_model(Scenario, write(tmp_path, "good.yaml", GOOD))
    text = dump_yaml(scenario)
    assert "extends" not in text and "doubling_time_h" in text  # fully resolved, defaults included
    assert load_model(Scenario, write(tmp_path, "dumped.yaml", text)) == scenario
    default = Scenario()
    assert load_model(Scenario, write(tmp_path, "default.yaml", dump_yaml(default))) == default


# 2 -------------------------------------------------------------------------------------------------------------


def test_misspelt_key(tmp_path):
    path = write(tmp_path, "bad.yaml", "time:\n  days: 3\ncancer:\n  initial_cells: 10\n  doubling_tme_h: 36\n")
    p = only(problems_of(path))
    assert (p.file, p.line, p.key_path, p.value) == (path, 5, "cancer.doubling_tme_h", 36)
    assert p.message == "unknown key"
    assert p.suggestion is not None and "doubling_time_h" in p.suggestion
    assert p.allowed is not None and "initial_cells" in p.allowed and "doubling_time_h" in p.allowed
    assert "dt_min" not in p.allowed  # the keys of *this* section, not another


def test_misspelt_top_level_section(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "descripton: x\n")))
    assert (p.line, p.key_path, p.message) == (1, "descripton", "unknown key")
    assert "description" in p.suggestion and "cancer" in p.allowed


# 3 -------------------------------------------------------------------------------------------------------------


def test_negative_count(tmp_path):
    path = write(tmp_path, "bad.yaml", "description: neg\ncancer:\n  layout: disc\n  initial_cells: -5\n")
    p = only(problems_of(path))
    assert (p.file, p.line, p.key_path, p.value) == (path, 4, "cancer.initial_cells", -5)
    assert ">= 0" in p.allowed and "whole number" in p.allowed
    assert p.suggestion is None


# 4 -------------------------------------------------------------------------------------------------------------


def test_all_errors_reported(tmp_path):
    text = "grid:\n  width_sites: 2\ntime:\n  dt_min: 0\ncancer:\n  hla_e_cv: -1\n"
    problems = problems_of(write(tmp_path, "bad.yaml", text))
    assert sorted((p.key_path, p.line, p.value) for p in problems) == [
        ("cancer.hla_e_cv", 6, -1),
        ("grid.width_sites", 2, 2),
        ("time.dt_min", 4, 0),
    ]
    by_key = {p.key_path: p for p in problems}
    assert by_key["grid.width_sites"].allowed == "a whole number >= 5 and <= 2000"
    assert by_key["time.dt_min"].allowed == "a number >= 1 and <= 240"


# 5, 6 ----------------------------------------------------------------------------------------------------------


def test_bad_literal(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "cancer:\n  layout: ring\n")))
    assert (p.line, p.key_path, p.value) == (2, "cancer.layout", "ring")
    assert "disc" in p.allowed and "scattered" in p.allowed


def test_literal_typo_gets_a_suggestion(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "cancer:\n  layout: scatered\n")))
    assert "scattered" in p.suggestion


def test_bad_dict_key(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "cancer:\n  antigens:\n    CD91: {level: 1.0}\n")))
    assert (p.line, p.key_path, p.value) == (3, "cancer.antigens.CD91", "CD91")
    assert "CD19" in p.allowed and "BCMA" in p.allowed and "CD19" in p.suggestion


def test_unknown_key_inside_dict_value(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "cancer:\n  antigens:\n    CD19:\n      levl: 1.0\n")))
    assert (p.line, p.key_path, p.message) == (4, "cancer.antigens.CD19.levl", "unknown key")
    assert p.allowed == "keys: positive_fraction, level" and "'level'" in p.suggestion


def test_wrong_type(tmp_path):
    path = write(tmp_path, "bad.yaml", "time:\n  dt_min: 30\n  days: ten\n")
    p = only(problems_of(path))
    assert (p.file, p.line, p.key_path, p.value) == (path, 3, "time.days", "ten")
    assert p.allowed.startswith("a number")


def test_exponent_without_point_gets_a_hint(tmp_path):
    p = only(problems_of(write(tmp_path, "bad.yaml", "cancer:\n  prolif_drug_max_inhibition: 1e3\n")))
    assert (p.line, p.value) == (2, "1e3") and "1.0e+3" in p.suggestion


def test_list_item_and_model_validator(tmp_path):
    text = "output:\n  snapshot_days:\n    - 0\n    - soon\n"
    p = only(problems_of(write(tmp_path, "bad.yaml", text)))
    assert (p.line, p.key_path, p.value) == (4, "output.snapshot_days.1", "soon")
    text = "grid: {width_sites: 10, height_sites: 10}\ncancer: {initial_cells: 500}\n"
    p = only(problems_of(write(tmp_path, "big.yaml", text)))
    assert "do not fit on the grid" in p.message and not p.message.startswith("Value error")
    # A rule over several keys names the one it is mostly about, with that key's line and value.
    assert (p.line, p.key_path, p.value) == (2, "cancer.initial_cells", 500)


# 7 -------------------------------------------------------------------------------------------------------------


def test_extends_merges_and_keeps_parent_lines(tmp_path):
    base = write(tmp_path, "base.yaml", "description: base\ncancer:\n  layout: ring\n  initial_cells: 100\n"
                                        "time:\n  days: 10\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\ncancer:\n  initial_cells: 50\n")
    data, sources = read_yaml_tree(child)
    assert data == {"description": "base", "cancer": {"layout": "ring", "initial_cells": 50}, "time": {"days": 10}}
    assert sources[("cancer", "initial_cells")] == (child, 3)
    assert sources[("cancer", "layout")] == (base, 3)
    assert sources[("time", "days")] == (base, 6)
    p = only(problems_of(child))
    assert (p.file, p.line, p.key_path, p.value) == (base, 3, "cancer.layout", "ring")


def test_extends_chain_of_three_and_lists_replaced(tmp_path):
    write(tmp_path, "a.yaml", "time: {days: 1, dt_min: 10}\noutput:\n  snapshot_days: [0, 1, 2]\n")
    (tmp_path / "sub").mkdir()
    write(tmp_path, "sub/b.yaml", "extends: ../a.yaml\ntime: {days: 2}\ngrid: {width_sites: 50}\n")
    c = write(tmp_path, "c.yaml", "extends: [sub/b.yaml]\ntime:\n  days: 3\noutput:\n  snapshot_days: [3]\n")
    data, sources = read_yaml_tree(c)
    assert data["time"] == {"days": 3, "dt_min": 10} and data["grid"] == {"width_sites": 50}
    assert data["output"]["snapshot_days"] == [3] and ("output", "snapshot_days", 1) not in sources
    assert "extends" not in data and not any(k[:1] == ("extends",) for k in sources)
    assert sources[("grid", "width_sites")] == (tmp_path / "sub" / "b.yaml", 3)
    scenario = load_model(Scenario, c)
    assert (scenario.time.days, scenario.time.dt_min, scenario.grid.width_sites) == (3.0, 10.0, 50)


def test_extends_missing_target(tmp_path):
    child = write(tmp_path, "child.yaml", "description: x\nextends: nowhere.yaml\n")
    p = only(problems_of(child))
    assert (p.file, p.line, p.key_path, p.value) == (child, 2, "extends", "nowhere.yaml")
    assert "not found" in p.message and "nowhere.yaml" in p.message


def test_extends_cycle(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    p = only(problems_of(a))
    assert "cycle" in p.message and "a.yaml" in p.message and "b.yaml" in p.message
    assert p.file == tmp_path / "b.yaml" and p.line == 1


def test_extends_not_a_path(tmp_path):
    p = only(problems_of(write(tmp_path, "a.yaml", "extends: {file: b.yaml}\n")))
    assert (p.line, p.key_path) == (1, "extends") and "path" in p.allowed


# 8 -------------------------------------------------------------------------------------------------------------


def test_duplicate_key(tmp_path):
    path = write(tmp_path, "dup.yaml", "time:\n  days: 3\n  dt_min: 30\n  days: 4\n")
    p = only(problems_of(path))
    assert (p.file, p.line, p.key_path) == (path, 4, "time.days")
    assert "duplicate" in p.message and "2" in p.message


def test_yaml_syntax_error(tmp_path):
    path = write(tmp_path, "syn.yaml", "description: ok\ntime:\n  days: [1, 2\ngrid: {}\n")
    p = only(problems_of(path))
    assert p.file == path and p.line in (3, 4) and "YAML" in p.message
    assert "expected" in p.message  # the parser's own words


@pytest.mark.parametrize(("text", "words"), [("", "empty"), ("# only a comment\n", "empty"),
                                             ("- a\n- b\n", "list"), ("just text\n", "single value")])
def test_not_a_mapping(tmp_path, text, words):
    p = only(problems_of(write(tmp_path, "x.yaml", text)))
    assert words in p.message and p.key_path == "" and "mapping" in p.allowed


def test_missing_file_and_not_utf8(tmp_path):
    p = only(problems_of(tmp_path / "absent.yaml"))
    assert "not found" in p.message and "absent.yaml" in p.message
    path = tmp_path / "latin1.yaml"
    path.write_bytes("description: ok\ncancer:\n  layout: d\xe9c\n".encode("latin-1"))
    p = only(problems_of(path))
    assert (p.file, p.line) == (path, 3) and "UTF-8" in p.message


def test_unsafe_tag_rejected(tmp_path):
    p = only(problems_of(write(tmp_path, "evil.yaml", "description: !!python/object/apply:os.system [echo]\n")))
    assert p.line == 1 and "YAML" in p.message


def test_anchors_and_merge_keys(tmp_path):
    text = (
        "grid: {width_sites: 20, height_sites: 20}\n"
        "cancer:\n  initial_cells: 10\n  antigens:\n"
        "    CD19: &ag {positive_fraction: 0.5, level: 2.0}\n"
        "    CD20:\n      <<: *ag\n      level: 3.0\n"
    )
    path = write(tmp_path, "anchor.yaml", text)
    data, sources = read_yaml_tree(path)
    assert data["cancer"]["antigens"]["CD20"] == {"positive_fraction": 0.5, "level": 3.0}
    assert sources[("cancer", "antigens", "CD20", "level")] == (path, 8)
    scenario = load_model(Scenario, path)
    assert scenario.cancer.antigens["CD20"].level == 3.0 and scenario.grid.width_sites == 20
    looped = write(tmp_path, "loop.yaml", "grid: &g\n  inner: *g\n")
    assert "alias" in only(problems_of(looped)).message


# 9 -------------------------------------------------------------------------------------------------------------


def test_overrides(tmp_path):
    path = write(tmp_path, "good.yaml", GOOD)
    scenario = load_model(Scenario, path, {"time.days": 8, "grid.site_um": 10.0, "cancer.antigens.CD20.level": 3.0})
    assert (scenario.time.days, scenario.grid.site_um) == (8, 10.0)
    assert scenario.cancer.antigens["CD20"].level == 3.0
    assert scenario.cancer.antigens["CD19"].level == 2.0  # the file's entry is kept
    default = load_model(Scenario, write(tmp_path, "empty_cancer.yaml", "description: d\n"),
                         {"cancer.antigens.CD20.level": 3.0})
    assert default.cancer.antigens["CD38"] == Scenario().cancer.antigens["CD38"]  # defaults kept beside it


def test_override_of_unknown_key(tmp_path):
    p = only(problems_of(write(tmp_path, "good.yaml", GOOD), {"time.dayz": 7}))
    assert (p.file, p.line, p.key_path, p.value, p.message) == (None, None, "time.dayz", 7, "unknown key")
    assert "'days'" in p.suggestion and "dt_min" in p.allowed


def test_bad_override_value_has_no_file_line(tmp_path):
    p = only(problems_of(write(tmp_path, "good.yaml", GOOD), {"cancer.initial_cells": -1}))
    assert (p.file, p.line, p.key_path, p.value) == (None, None, "cancer.initial_cells", -1)


# 10 ------------------------------------------------------------------------------------------------------------


def test_message_text(tmp_path):
    path = write(tmp_path, "bad.yaml", "cancer:\n  initial_cells: -5\n  doubling_tme_h: 36\n")
    with pytest.raises(ConfigError) as info:
        load_model(Scenario, path)
    text = str(info.value)
    assert f"{path}:2: cancer.initial_cells = -5" in text
    assert f"{path}:3: cancer.doubling_tme_h: unknown key (value: 36)" in text
    assert "did you mean 'doubling_time_h'?" in text and "allowed" in text
    assert "Traceback" not in text and "pydantic" not in text and "errors.pydantic.dev" not in text
    assert pickle.loads(pickle.dumps(info.value)).problems == info.value.problems


# generic use with another model class ----------------------------------------------------------------------


class Inner(Params):
    rate: float = 1.0


class Outer(Params):
    name: str
    inner: Inner | None = None
    parts: dict[str, Inner] = {}


def test_generic_model_and_missing_key():
    with pytest.raises(ConfigError) as info:
        validate_model(Outer, {"inner": {"rat": 2}, "parts": {"x": {"rate": "fast"}}},
                       {("inner",): (Path("o.yaml"), 1), ("inner", "rat"): (Path("o.yaml"), 2)}, file=Path("o.yaml"))
    by_key = {p.key_path: p for p in info.value.problems}
    assert set(by_key) == {"name", "inner.rat", "parts.x.rate"}
    assert by_key["name"].message == "required key is missing" and by_key["name"].file == Path("o.yaml")
    assert by_key["inner.rat"].line == 2 and by_key["inner.rat"].allowed == "keys: rate"
    assert by_key["parts.x.rate"].allowed == "a number" and by_key["parts.x.rate"].line is None
    assert validate_model(Outer, {"name": "n"}, {}, file=None) == Outer(name="n")

"""The batch kind: what only a batch file has (arms and their scenario files, overrides, sweeps, cohorts,
replicates, hypotheses, reference, outcomes), broken one at a time."""

from __future__ import annotations

import os.path
from pathlib import Path

from hypothesis import strategies as st

from .documents import Doc, Mutation, Raw, dotted, flow, place, shown
from .kinds import broken_copy
from .real_files import CASE_NAME, relative_path
from .schema import SCENARIO_SLOTS
from .values import NUMBER_SPELLINGS, WRONG_FOR_NUMBER


def mut_batch(draw, doc: Doc, case_rel: str) -> tuple[Mutation, dict[str, bytes], tuple[str, ...]]:
    """A broken part of a batch file; returns the mutation, extra files, and the names that may be blamed."""
    arms = [a for a in doc.data.get("arms", {})] or ["fz_arm"]
    arm = draw(st.sampled_from(arms))
    how = draw(st.sampled_from(["arm_missing", "arm_broken", "overrides", "overrides", "sweep", "sweep", "cohort",
                                "cohort", "replicates", "hypotheses", "hypotheses", "reference", "outcomes", "arms"]))
    extra: dict[str, bytes] = {}
    if how == "arm_missing":
        value = draw(st.sampled_from(["missing.yaml", "../nope/x.yaml", "", "/nonexistent.yaml", ".", "../",
                                      "../default.yml", 5, None, ["../default.yaml"]]))
        path = place(doc, ("arms", arm, "scenario"), value)
        return Mutation("batch", f"{dotted(path)} = {flow(value)}", path), extra, (CASE_NAME,)
    if how == "arm_broken":
        real = doc.data["arms"][arm]["scenario"] if arm in doc.data.get("arms", {}) else "../default.yaml"
        real_rel = os.path.normpath((Path(doc.rel).parent / real).as_posix())
        aux, data, muts = broken_copy(draw, real_rel, "_fuzz_arm.yaml")
        extra[aux] = data
        value = relative_path(case_rel, aux)
        doc.set(("arms", arm, "scenario"), value)
        m = muts[0]
        return (Mutation("batch", f"arms.{arm}.scenario: {value}, a copy of {real_rel} with {m.kind}: {m.note}",
                         m.target, m.require), extra, ("_fuzz_arm.yaml",))
    if how == "overrides":
        good = [s for s in SCENARIO_SLOTS if s.kind in ("float", "int", "bool", "str", "literal", "seq")]
        key = draw(st.one_of(
            st.sampled_from(good).map(lambda s: dotted(s.path)),
            st.sampled_from(["cancer.nope", "therapy.selinexor.5.dose_mg", "time.days.x", "", ".", "a..b",
                             "grid.0", "cancer.antigens.CD19.level.x", "output.snapshot_days.99", "therapy.selinexor.x",
                             "time", "products.selinexor_pk"]),
        ))
        value = draw(st.one_of(st.sampled_from(NUMBER_SPELLINGS).map(Raw), st.sampled_from(WRONG_FOR_NUMBER)))
        if draw(st.integers(0, 5)) == 0:
            value = draw(st.sampled_from([[1], "cancer.initial_cells=5", 5, None]))
            path = place(doc, ("arms", arm, "overrides"), value)
            return Mutation("batch", f"{dotted(path)} = {shown(value)}", path), extra, (CASE_NAME,)
        path = place(doc, ("arms", arm, "overrides", key), value)
        return Mutation("batch", f"{dotted(path)} = {shown(value)}", path), extra, (CASE_NAME,)
    if how == "sweep":
        sub = draw(st.sampled_from(["empty_map", "empty_list", "huge", "product", "non_finite", "not_list",
                                    "wrong_path", "not_map"]))
        if sub == "empty_map":
            path = place(doc, ("sweep", "parameters"), {})
        elif sub == "empty_list":
            path = place(doc, ("sweep", "parameters", "cancer.doubling_time_h"), [])
        elif sub == "huge":
            n = draw(st.sampled_from([1000, 10000, 100000]))
            path = place(doc, ("sweep", "parameters", "cancer.doubling_time_h"), [24.0 + i * 1e-3 for i in range(n)])
            sub = f"of {n} values"
        elif sub == "product":
            n, k = draw(st.sampled_from([(100, 3), (1000, 3), (30, 6), (10, 9)]))
            keys = ["cancer.doubling_time_h", "cancer.hla_e_mean", "cancer.trail_r_mean", "nk.lifespan_d",
                    "nk.adcc_gain", "cancer.hla_e_cv", "cancer.trail_r_cv", "nk.chemotaxis_bias", "cancer.priming_tau_h"]
            for key in keys[:k]:
                doc.set(("sweep", "parameters", key), [0.5 + i * 1e-4 for i in range(n)])
            path = ("sweep", "parameters")
            return (Mutation("batch", f"sweep of {k} parameters x {n} values ({n ** k:.0e} points)", path),
                    extra, (CASE_NAME,))
        elif sub == "non_finite":
            key = draw(st.sampled_from(["cancer.doubling_time_h", "time.days", "grid.width_sites",
                                        "therapy.selinexor.0.dose_mg"]))
            path = place(doc, ("sweep", "parameters", key), [Raw(draw(st.sampled_from([".inf", ".nan", "-.inf",
                                                                                         "1.0e+300"])))])
        elif sub == "wrong_path":
            key = draw(st.sampled_from(["cancer.nope", "", "time.days.x", "therapy.selinexor.7.dose_mg"]))
            path = place(doc, ("sweep", "parameters", key), [1.0, 2.0])
        elif sub == "not_list":
            path = place(doc, ("sweep", "parameters", "cancer.doubling_time_h"),
                          draw(st.sampled_from([24, "24", {"a": 1}, None])))
        else:
            path = place(doc, ("sweep",), draw(st.sampled_from([5, [1], "x", {"cancer.doubling_time_h": [24]}])))
        return Mutation("batch", f"sweep {sub}: {dotted(path)}", path), extra, (CASE_NAME,)
    if how == "cohort":
        key = draw(st.sampled_from(["cancer.doubling_time_h", "nk.initial_count", "cancer.hla_e_mean",
                                    "therapy.selinexor.9.dose_mg", "cancer.nope", "time", "output.snapshot_days"]))
        dist, bad = draw(st.sampled_from([
            ({"kind": "poisson", "mean": -1.0}, "mean"),
            ({"kind": "poisson", "mean": Raw("1.0e+300")}, "mean"),
            ({"kind": "poisson", "mean": Raw(".nan")}, "mean"),
            ({"kind": "lognormal", "mean": 1.0, "cv": Raw(".inf")}, "cv"),
            ({"kind": "lognormal", "mean": Raw("1.0e+300"), "cv": Raw("1.0e+300")}, "cv"),
            ({"kind": "lognormal", "mean": 0, "cv": 1.0}, "mean"),
            ({"kind": "lognormal", "mean": 1.0}, "cv"),
            ({"kind": "uniform", "low": 5.0, "high": 1.0}, "high"),
            ({"kind": "uniform", "low": Raw("-.inf"), "high": Raw(".inf")}, "low"),
            ({"kind": "normal", "mean": Raw(".nan"), "sd": 1.0}, "mean"),
            ({"kind": "normal", "mean": 0.0, "sd": -1.0}, "sd"),
            ({"kind": "normal", "mean": 0.0, "sd": Raw("1.0e+300")}, "sd"),
            ({"kind": "gamma", "mean": 1.0}, "kind"),
            ({"kind": "poisson"}, "mean"),
        ]))
        value = {k: (doc.sentinel(v) if isinstance(v, Raw) else v) for k, v in dist.items()}
        path = doc.set(("cohort", "parameters", key), value)
        dist_text = {k: shown(v) for k, v in dist.items()}
        return Mutation("batch", f"cohort.parameters.{key} = {dist_text}", path + (bad,)), extra, (CASE_NAME,)
    if how == "replicates":
        key, value = draw(st.sampled_from([
            ("replicates", "1.0e+9"), ("replicates", "1000000000"), ("replicates", "-1"), ("replicates", "0"),
            ("replicates", "100001"), ("replicates", ".inf"), ("replicates", "many"), ("base_seed", "-1"),
            ("base_seed", "18446744073709551616"), ("days", ".inf"), ("days", "-1"), ("days", "0"),
            ("days", "1.0e+9"), ("seeds", "sometimes"), ("days", ".nan"),
        ]))
        path = place(doc, (key,), Raw(value))
        return Mutation("batch", f"{key} = {value}", path), extra, (CASE_NAME,)
    if how == "hypotheses":
        base = {"id": "FZ", "outcome": "final_tumour", "arm": arm, "versus": arms[-1], "expected": "less"}
        bad, value = draw(st.sampled_from([
            ("arm", "nope"), ("versus", "nope"), ("outcome", "nope"), ("outcome", "hla_e_mean@1.0e+9"),
            ("outcome", "x@7.."), ("outcome", "final_tumour@7"), ("outcome", "il10_mean@21..7"),
            ("outcome", "il10_mean@-99999999999999999999"), ("value", Raw(".nan")), ("expected", "more"),
            ("id", None), ("arm", None), ("versus", 5),
        ]))
        hyp = dict(base)
        if bad == "value":
            hyp.pop("versus")
        hyp[bad] = doc.sentinel(value) if isinstance(value, Raw) else value
        hyps = list(doc.data.get("hypotheses") or [])
        at = len(hyps)
        path = doc.set(("hypotheses",), hyps + [hyp])
        return Mutation("batch", f"hypotheses.{at}.{bad} = {shown(value)}", path + (at, bad)), extra, (CASE_NAME,)
    if how == "reference":
        value = draw(st.sampled_from(["nope", 5, None, [arm], ""]))
        path = place(doc, ("reference",), value)
        return Mutation("batch", f"reference = {flow(value)}", path), extra, (CASE_NAME,)
    if how == "outcomes":
        value = draw(st.sampled_from([[], ["nope"], "final_tumour", [5], ["final_tumour", None]]))
        path = place(doc, ("outcomes",), value)
        return Mutation("batch", f"outcomes = {flow(value)}", path), extra, (CASE_NAME,)
    value = draw(st.sampled_from([{}, [], "x", {"bad name!": {"scenario": "../default.yaml"}},
                                  {arm: {"scenario": "../default.yaml", "overrides": {}, "fz": 1}}]))
    path = place(doc, ("arms",), value)
    target = path
    if isinstance(value, dict) and value:
        name = next(iter(value))
        target = path + (name,) + (("fz",) if "fz" in value[name] else ())
    return Mutation("batch", f"arms = {flow(value)}", target), extra, (CASE_NAME,)

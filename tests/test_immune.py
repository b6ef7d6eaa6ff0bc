"""Each immune mechanism of biology.md, checked on small hand-built grids with fixed seeds."""

import numpy as np
import pytest

from tumour_abm.cells.t_cells import t_cell_kill_hazard
from tumour_abm.cells.cancer import division_rate_per_h
from tumour_abm.cells.contact import kill_probability, neighbour_targets
from tumour_abm.cells.motility import Uphill, settle, walk
from tumour_abm.cells.nk import NKParams, nk_kill_hazards
from tumour_abm.model import TumourModel
from tumour_abm.space import padded_flat, padded_index, unpad
from tumour_abm.scenario import Scenario

PAIRS = 100  # isolated killer–target pairs on one 30 x 30 grid


def blank(seed=0, **updates) -> TumourModel:
    """A grid with no cells and no vessels, for placing cells by hand."""
    scenario = Scenario().with_updates(
        {"grid.width_sites": 30, "grid.height_sites": 30, "grid.vessel_fraction": 0.0, "cancer.initial_cells": 0,
         "time.days": 10.0, "output.snapshot_days": (), **updates}
    )
    return TumourModel(scenario, seed)


def place_pairs(model, **nk_state):
    """A cancer cell at (3i+1, 3j+1) and an NK cell beside it at (3i+1, 3j+2): no NK touches another target."""
    grid = np.array([(3 * i + 1, 3 * j + 1) for i in range(10) for j in range(10)])
    rows = model.cancer.add(grid[:, 0], grid[:, 1])
    model.nk.add(grid + (0, 1), **nk_state)
    return rows


def nk_kill_fraction(hla_e=1.0, trail_r=1.0, blockade=0.0, granules=5, seeds=range(4), opsonins=None,
                     death_receptor=1.0):
    killed = 0
    for seed in seeds:
        m = blank(seed)
        rows = place_pairs(m, nkg2a=True, granules=granules, death_receptor=death_receptor)
        m.cancer.hla_e_base[rows] = hla_e
        m.cancer.trail_r_base[rows] = trail_r
        m.cancer.antigen["CD20"][rows] = 1.0
        m.therapy.nkg2a_blockade = blockade
        m.therapy.opsonins = opsonins or {}
        m.nk.step()
        killed += PAIRS - m.cancer.n_alive
    return killed / (PAIRS * len(seeds))


def test_nkg2a_and_hla_e_gate_nk_killing_and_blockade_lifts_the_gate():
    low, high = nk_kill_fraction(hla_e=0.2), nk_kill_fraction(hla_e=2.0)
    assert low > high + 0.25, (low, high)
    # Expected from the rule: p = 1 − exp(−dt·(granzyme + TRAIL)); high HLA-E silences granzyme entirely.
    assert high == pytest.approx(1 - np.exp(-0.5 * 0.3), abs=0.06)
    assert low == pytest.approx(1 - np.exp(-0.5 * (2 * (1 - 0.8 * 0.2) + 0.3)), abs=0.06)
    blocked_low, blocked_high = nk_kill_fraction(hla_e=0.2, blockade=1.0), nk_kill_fraction(hla_e=2.0, blockade=1.0)
    assert abs(blocked_low - blocked_high) < 0.08, (blocked_low, blocked_high)


def test_trail_killing_grows_with_trail_r_and_needs_no_granules():
    # Without granules only death receptors kill; that is not gated by NKG2A (high HLA-E here).
    weak, strong = (nk_kill_fraction(hla_e=2.0, trail_r=t, granules=0) for t in (0.5, 3.0))
    assert strong > weak + 0.2, (weak, strong)
    p = NKParams()
    common = dict(nkg2a=1.0, hla_e=2.0, opsonisation=0.0, tgfb=0.0, nk_impairment=0.0, nkg2a_blockade=0.0)
    assert nk_kill_hazards(p, trail_r=2.0, has_granules=False, **common) == (0.0, 0.0, pytest.approx(0.6))
    # ... but it needs the death-receptor budget (one kill, Prager 2019)
    assert nk_kill_hazards(p, trail_r=2.0, has_granules=False, has_death_receptor=False, **common) == (0.0, 0.0, 0.0)
    budgetless = nk_kill_fraction(hla_e=2.0, trail_r=3.0, granules=0, death_receptor=0.0)
    assert budgetless == 0.0


def test_adcc_btk_impairment_and_tgfb_move_nk_activation_the_right_way():
    p = NKParams()
    base = dict(nkg2a=0.0, hla_e=1.0, trail_r=1.0, opsonisation=0.0, tgfb=0.0, nk_impairment=0.0,
                nkg2a_blockade=0.0, has_granules=True)
    g0, a0, t0 = nk_kill_hazards(p, **base)
    assert a0 == 0.0  # no antibody, no ADCC
    granzyme, adcc, trail = nk_kill_hazards(p, **{**base, "opsonisation": 1.0})
    # CD16 adds activation to the granule path only: the added share is ADCC; death receptors are not raised.
    assert granzyme == pytest.approx(g0) and granzyme + adcc == pytest.approx(g0 * (1 + p.adcc_gain))
    assert trail == pytest.approx(t0)
    assert nk_kill_hazards(p, **{**base, "nk_impairment": 0.7})[2] == pytest.approx(t0 * 0.3)
    assert nk_kill_hazards(p, **{**base, "tgfb": 100.0})[0] < g0


def test_granzyme_kills_use_up_granules_then_nk_cells_are_exhausted():
    m = blank(1)
    place_pairs(m, nkg2a=False, granules=1)
    m.cancer.trail_r_base[:] = 0.0  # granzyme only
    m.nk.step()
    killers = [a for a in m.nk.agents() if a.exhausted]
    assert len(killers) == m.cancer.deaths["nk_granzyme"] > 50
    assert all(a.kills == 1 for a in killers) and m.nk.most_kills == 1


def test_after_a_kill_an_nk_cell_waits_out_its_refractory_time_and_regains_granules_over_days():
    m = blank(3, **{"nk.kill_refractory_h": 2.0, "nk.speed_um_per_min": 0.0})  # (detached cells stay put here)
    p = m.nk.params
    place_pairs(m, nkg2a=False, granules=5)
    m.cancer.trail_r_base[:] = 0.0
    m.steps = 1
    m.nk.step()
    killers = m.nk.store.rows()[m.nk.values("kills") == 1]
    assert len(killers) > 50
    # Their next targets, right beside them, are safe until the refractory time has passed (2 h = 4 steps).
    for row in killers:
        x, y = m.nk.store["x"][row], m.nk.store["y"][row]
        m.cancer.add(np.array([x - 1]), np.array([y]))
    m.cancer.trail_r_base[:] = 0.0  # granzyme only
    for step in range(2, 5):
        m.steps = step
        m.nk.step()
    assert (m.nk.store["kills"][killers] == 1).all()
    m.steps = 6  # refractory over: most kill again (p = 0.63 a step)
    m.nk.step()
    assert (m.nk.store["kills"][killers] == 2).mean() > 0.45
    # Granules: the kills spent, and the transitions of the four steps after the first (full then) re-make
    # 1 /d × the tissue's cytokine support × 0.5 h each.
    regen = p.granule_regen_per_d * p.cytokine_support * 0.5 / 24.0
    killers = killers[m.nk.store["alive"][killers]]  # (a few die their natural death meanwhile)
    spent = m.nk.store["kills"][killers]
    np.testing.assert_allclose(m.nk.store["granules"][killers], p.granules - spent + 4 * regen, rtol=1e-5)
    # Each killer's refractory time runs from its last kill: step 1 (0.5 h) or step 6 (3 h), plus 2 h.
    np.testing.assert_allclose(m.nk.store["refractory_until_h"][killers], np.where(spent == 2, 5.0, 2.5))


@pytest.mark.parametrize("support", [0.0, 0.1, 1.0])
def test_nk_cells_re_arm_only_at_the_cytokine_support_the_tissue_offers(support):
    """Spent cells with no target re-make granules and death-receptor budget at support × their supported rates."""
    m = blank(3, **{"nk.cytokine_support": support, "nk.lifespan_d": 1e6})
    p = m.nk.params
    m.nk.add(np.array([(5, 5), (5, 20), (20, 5), (20, 20)]), granules=0.0, death_receptor=0.0)
    for _ in range(48):  # one day
        m.nk.step()
    rows = m.nk.store.rows()
    np.testing.assert_allclose(m.nk.store["granules"][rows], support * p.granule_regen_per_d, rtol=1e-5)
    np.testing.assert_allclose(m.nk.store["death_receptor"][rows], support * p.death_receptor_regen_per_d, rtol=1e-5)


def test_il10_turns_nk_cells_nkg2a_positive():
    m = blank(2, **{"nk.il10_nkg2a_conversion_per_d": 5.0})
    m.nk.add(np.array([(5, 5), (5, 20), (20, 5), (20, 20)] * 1), nkg2a=False)
    m.fields.set("il10", 10.0)
    for _ in range(96):  # 2 days at 5 /d × H(10): each cell converts with p = 1 − e^(−9.5)
        m.nk.step()
    assert all(a.nkg2a for a in m.nk.agents())
    m = blank(2, **{"nk.il10_nkg2a_conversion_per_d": 5.0})
    m.nk.add(np.array([(5, 5), (5, 20)]), nkg2a=False)
    for _ in range(48):
        m.nk.step()
    assert not any(a.nkg2a for a in m.nk.agents())


def car_t_model(seed=0, antigen_level=1.0, **updates):
    """A block of cancer cells with one CAR-T cell inside a free pocket at the centre."""
    m = blank(seed, **{"car_t.lifespan_d": 1e6, **updates})
    xs, ys = np.meshgrid(np.arange(8, 22), np.arange(8, 22), indexing="ij")
    keep = ~((abs(xs - 15) <= 1) & (abs(ys - 15) <= 1))
    rows = m.cancer.add(xs[keep], ys[keep])
    m.cancer.antigen["CD19"][rows] = antigen_level
    m.car_t.add(np.array([(15, 15)]))
    return m


def run_phase(m, population, steps):
    for _ in range(steps):
        m.steps += 1  # the model's clock, without the other phases
        population.step()


def test_antigen_negative_cells_are_never_killed_by_car_t():
    m = car_t_model(antigen_level=0.0)
    run_phase(m, m.car_t, 96)
    assert m.cancer.deaths["car_t"] == 0 and m.car_t.count() == 1  # never engaged: no expansion either
    positive = car_t_model(antigen_level=1.0)
    run_phase(positive, positive.car_t, 96)
    assert positive.cancer.deaths["car_t"] > 5 and positive.car_t.count() > 1


def test_an_exhausted_car_t_cell_does_not_divide():
    m = car_t_model()
    cell = m.car_t.agents()[0]
    cell.exhausted = True
    cell.activated_h = 0.0
    run_phase(m, m.car_t, 96)
    assert m.car_t.count() == 1 and m.car_t.events["divisions"] == 0
    assert m.cancer.deaths["car_t"] > 0  # it still kills, at the reduced exhausted rate


def test_repeated_engagements_exhaust_car_t_and_raise_nkg2a():
    m = car_t_model(**{"car_t.synapse_time_h": 0.0, "car_t.max_divisions": 0})
    run_phase(m, m.car_t, 48)
    cell = m.car_t.agents()[0]
    assert cell.engagements >= 10 and cell.exhausted
    assert cell.nkg2a == pytest.approx(min(1.0, 0.05 * (cell.engagements - 5)))  # rises per engagement, to 1


def test_car_t_impairment_by_concentration_follows_the_tyler_threshold():
    m = blank()
    drug = m.car_t.drug
    for c, expected in ((0.0, 0.0), (120.0, 0.45), (1000.0, 0.9)):
        drug.update(c)
        assert drug.impairment == pytest.approx(expected, abs=0.01)
    p = m.car_t.params
    kw = dict(antigen=1.0, exhaustion=0.0, pd1_blockade=0.0, tgfb=0.0, nkg2a=0.0, hla_e=1.0)
    assert t_cell_kill_hazard(p, impairment=0.45, **kw) == pytest.approx(0.55 * t_cell_kill_hazard(p, impairment=0.0, **kw))
    exhausted = t_cell_kill_hazard(p, impairment=0.0, **{**kw, "exhaustion": 1.0})
    assert exhausted == pytest.approx(0.2 * p.kill_per_h)
    # graded: half the threshold load, half the penalty
    assert t_cell_kill_hazard(p, impairment=0.0, **{**kw, "exhaustion": 0.5}) == pytest.approx(0.6 * p.kill_per_h)
    assert t_cell_kill_hazard(p, impairment=0.0, **{**kw, "exhaustion": 1.0, "pd1_blockade": 1.0}) > exhausted


def test_a_car_t_daughter_inherits_part_of_its_mothers_exhaustion():
    m = car_t_model(**{"car_t.division_time_h": 0.001})  # it divides at once
    mother = m.car_t.agents()[0]
    mother.load, mother.activated_h = 6.0, 0.0
    m.car_t._divide(m.car_t.store.rows())
    daughters = [a for a in m.car_t.agents() if a is not mother]
    assert len(daughters) == 1 and mother.divisions == 1 == daughters[0].divisions
    assert daughters[0].load == pytest.approx(0.5 * 6.0) and mother.load == 6.0
    assert m.car_t.exhaustion(m.car_t.store.rows()).tolist() == pytest.approx([0.6, 0.3])


def test_exhaustion_builds_less_when_the_drug_is_present_at_engagement():
    loads = {}
    for level in (0.0, 1000.0):
        m = car_t_model(seed=4, **{"car_t.synapse_time_h": 0.0, "car_t.max_divisions": 0})
        m.car_t.drug.update(level)
        m.car_t.drug.impairment = 0.0  # only the checkpoint effect, not the impairment of killing
        run_phase(m, m.car_t, 6)
        cell = m.car_t.agents()[0]
        loads[level] = cell.load / cell.engagements
    # each new engagement adds 1 − 0.5 × checkpoint(C): 1 without drug, 1 − 0.5 × 1000/1100 at 1 µM
    assert loads[0.0] == pytest.approx(1.0)
    assert loads[1000.0] == pytest.approx(1.0 - 0.5 * 1000.0 / 1100.0)


def test_a_car_t_cell_keeps_its_target_until_it_is_killed():
    m = car_t_model(**{"car_t.kill_per_h": 0.0})  # it never kills: it should hold one synapse
    run_phase(m, m.car_t, 20)
    cell = m.car_t.agents()[0]
    assert cell.engagements == 1 and cell.target >= 0


def test_m2_macrophages_raise_local_il10_and_m1_do_not():
    sites = np.array([(3, 3), (3, 4), (4, 3)])
    m2, m1 = blank(), blank()
    m2.macrophages.add(sites, m2=True)
    m1.macrophages.add(sites, m2=False)
    for _ in range(4):
        m2._update_fields()
        m1._update_fields()
    il10 = m2.fields["il10"]
    assert il10[3, 3] > il10[15, 15] > il10[27, 27] > 0  # highest at the M2 cells, falling with distance
    assert not m1.fields["il10"].any()
    ifng = m1.fields["ifng"]  # M1 cells' pro-inflammatory signal instead, and it stays local
    assert ifng[3, 3] > 0.1 and ifng[10, 10] < 0.01 * ifng[3, 3] and not m2.fields["ifng"].any()


def polarised_macrophages(seed=3):
    """81 M1 macrophages held two days in IL-10: M1 → M2 at 0.25 /d × (1 + H), back at 0.02 /d."""
    m = blank(seed, **{"macrophage.speed_um_per_min": 0.0, "macrophage.death_per_d": 0.0})
    sites = np.array([(x, y) for x in range(2, 28, 3) for y in range(2, 28, 3)])
    m.macrophages.add(sites, m2=False)
    m.fields.set("il10", 5.0)
    run_phase(m, m.macrophages, 96)
    m.fields.set("il10", 0.0)
    return m


def m2_fraction(m) -> float:
    return float(np.mean([a.m2 for a in m.macrophages.agents()]))


def test_macrophage_polarisation_follows_cytokines_and_drug():
    m = polarised_macrophages()
    to_m2, to_m1 = 0.25 * (1 + 5.0 / 5.5), 0.02
    expected = to_m2 / (to_m2 + to_m1) * (1 - np.exp(-(to_m2 + to_m1) * 2.0))
    assert m2_fraction(m) == pytest.approx(expected, abs=0.12), (m2_fraction(m), expected)
    # Two more days without IL-10, with and without selinexor (E_mac ≈ 0.9: M2 → M1 and M2 depletion).
    control, treated = polarised_macrophages(), polarised_macrophages()
    treated.macrophages.drug.update(1000.0)
    run_phase(control, control.macrophages, 96)
    run_phase(treated, treated.macrophages, 96)
    assert m2_fraction(treated) < m2_fraction(control) - 0.25, (m2_fraction(treated), m2_fraction(control))
    assert treated.macrophages.count() < control.macrophages.count() == 81


def test_a_net_raises_neighbour_division_and_shields_killing():
    m = blank()
    m.neutrophils.deposit_nets(np.array([10]), np.array([10]))
    nets = m.fields["nets"]
    assert nets[9:12, 9:12].min() == pytest.approx(1.0) and nets[13, 13] == 0.0
    p = m.spec.cancer
    near = division_rate_per_h(p, 0.0, nets[np.array([11]), np.array([11])], np.array([False]))
    far = division_rate_per_h(p, 0.0, nets[np.array([13]), np.array([13])], np.array([False]))
    assert near[0] == pytest.approx(far[0] * (1 + p.net_growth_gain))
    assert kill_probability(2.0, 0.5, nets[10, 10], m.net_shield) == pytest.approx(0.5 * kill_probability(2.0, 0.5, 0.0, m.net_shield))


def test_neutrophils_make_nets_in_tgfb_and_selinexor_suppresses_it():
    def nets_made(conc_nM):
        m = blank(4, **{"neutrophil.lifespan_d": 1e6, "neutrophil.speed_um_per_min": 0.0})
        m.neutrophils.add(np.array([(x, y) for x in range(1, 29, 2) for y in range(1, 29, 2)]))
        m.fields.set("tgfb", 5.0)
        m.neutrophils.drug.update(conc_nM)
        run_phase(m, m.neutrophils, 12)
        return m.neutrophils.events["nets_formed"]

    untreated, treated = nets_made(0.0), nets_made(3000.0)
    # 196 cells; hazard 0.05 /h × H(TGF-β 5) for 6 h, suppressed by 61.6 % × C/(300 + C) under the drug.
    expected = 196 * (1 - np.exp(-0.05 * (5 / 5.5) * 6))
    assert untreated == pytest.approx(expected, rel=0.3)
    assert treated == pytest.approx(196 * (1 - np.exp(-0.05 * (5 / 5.5) * 6 * (1 - 0.616 * 3000 / 3300))), rel=0.4)
    assert treated < untreated


def test_neutrophil_influx_follows_the_blood_count():
    m = blank(**{"grid.vessel_fraction": 0.05, "neutrophil.influx_per_d": 480.0, "therapy.selinexor": ({"dose_mg": 80.0, "start_day": 0.0,
                                                                         "end_day": 6.0, "every_days": 1.0},)})
    pop = m.neutrophils
    low = int(np.argmin(pop.blood_anc))
    assert pop.blood_anc[low] < 0.7  # daily 80 mg for a week: a clear dip
    arrived = []
    for steps in (1, low):
        m.steps = steps
        total = 0
        for _ in range(400):
            pop.recruit()
            total += pop.count()
            pop.remove_rows(pop.store.rows())  # room next to the vessels for the next draw
        arrived.append(total / 400)
    # 10 cells per 30-min step at baseline; in proportion to the count over the step at the nadir.
    assert arrived[0] == pytest.approx(10.0 * pop.blood_anc[:2].mean(), rel=0.05)
    assert arrived[1] == pytest.approx(10.0 * pop.blood_anc[low - 1 : low + 1].mean(), rel=0.05)


def test_targets_are_neighbours_and_respect_the_requirement():
    row_at = np.full((6, 6), -1)
    row_at[2, 2], row_at[5, 5] = 0, 1
    sites = np.array([(1, 1), (3, 3), (4, 4), (0, 5)])
    got = neighbour_targets(row_at, sites, np.random.default_rng(0))
    assert got.tolist() == [0, 0, 1, -1]
    assert neighbour_targets(row_at, sites, np.random.default_rng(0), requires=np.array([0.0, 1.0])).tolist() == [-1, -1, 1, -1]


def test_cells_placed_by_hand_within_a_step_are_seen_as_targets():
    m = blank(1)
    m.nk.add(np.array([(10, 10)]), nkg2a=False, granules=5)
    m.nk.step()  # no cancer yet, at this step count: nothing to meet
    (x, y), = m.nk.sites()
    m.cancer.add(np.array([x]), np.array([y + 1]))  # then a cancer cell beside it, at the same step count
    m.nk.step()
    assert m.nk.count() == 1 and m.nk.engagements["nkg2a_neg"] == 1  # it met the new cell (and may have killed it)


def test_walkers_drift_up_the_gradient_and_stop_at_contact():
    field = np.repeat(np.arange(60, dtype=np.float32)[:, None], 60, axis=1)
    uphill = Uphill(field)  # the gradient points to +x everywhere
    rng = np.random.default_rng(0)
    start = padded_index(np.full((500, 2), 30), 60)
    anywhere = padded_flat(np.ones((60, 60), dtype=bool), False)

    def walked(bias, halt=None, free=anywhere):
        return unpad(walk(start, np.full(500, 7.5), uphill, bias, rng, halt, free), 60)

    drift = (walked(0.5) - 30).mean(axis=0)
    assert drift[0] == pytest.approx(0.5 * 7.5, abs=0.4) and abs(drift[1]) < 0.4
    wall = np.ones((60, 60), dtype=bool)
    wall[:, 33:] = False  # occupied from y = 33 on: walkers wander but never enter it
    walled = walked(0.0, free=padded_flat(wall, False))
    assert (walled[:, 1] < 33).all() and (walled != 30).any()
    stop = np.zeros((60, 60), dtype=bool)
    stop[31:, :] = True
    assert (walked(1.0, halt=padded_flat(stop, False))[:, 0] == 31).all()


def test_walkers_that_lose_their_site_take_a_free_neighbour_of_it():
    free = np.ones((10, 10), dtype=bool)
    starts = np.array([(0, 0), (2, 2), (4, 4)])
    free[starts[:, 0], starts[:, 1]] = False  # where the three walkers start
    row_at = np.full((10, 10), -1, dtype=np.int32)
    row_at[starts[:, 0], starts[:, 1]] = [0, 1, 2]
    xs, ys = (np.ascontiguousarray(starts[:, axis], dtype=np.int32) for axis in (0, 1))
    open_ = padded_flat(free, False)
    start = padded_index(starts, 10)
    ends = padded_index(np.array([(6, 6), (6, 6), (6, 6)]), 10)  # all three walked to the same site
    moved = settle(np.arange(3), start, ends, open_, np.random.default_rng(1), row_at, free, xs, ys)
    final = np.stack([xs, ys], axis=1)
    assert moved == 3 and tuple(final[0]) == (6, 6)  # the first in turn order gets it
    assert all(max(abs(final[i] - 6)) == 1 for i in (1, 2)) and tuple(final[1]) != tuple(final[2])
    assert open_.sum() == 100 - 3 and not open_[padded_index(final, 10)].any() and open_[start].all()
    assert (row_at[final[:, 0], final[:, 1]] == [0, 1, 2]).all() and (row_at >= 0).sum() == 3
    assert not free[final[:, 0], final[:, 1]].any() and free.sum() == 100 - 3


def test_recruits_enter_next_to_vessels():
    m = TumourModel(Scenario().with_updates({"grid.width_sites": 40, "grid.height_sites": 40,
                                             "cancer.initial_cells": 100, "nk.influx_per_d": 480.0}), seed=5)
    m.nk.recruit()
    sites = np.array([a.cell.coordinate for a in m.nk.agents()])
    assert len(sites) > 5
    padded = np.pad(m.vessels, 1)
    next_to_vessel = [padded[x:x + 3, y:y + 3].any() for x, y in sites]
    assert all(next_to_vessel) and not m.vessels[sites[:, 0], sites[:, 1]].any()

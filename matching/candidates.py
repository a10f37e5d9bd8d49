"""The candidate graph: which 在岗 cadre may take which priority household, and how far apart.

Built as arrays, because a province has tens of millions of candidate arcs (a networkx graph of
that size needs minutes and many GiB). The groups the arcs never cross (villages, townships or
counties, by reach) are independent problems; an existing pairing that reaches across groups
joins them. networkx does that analysis on the small graph of groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import networkx as nx
import numpy as np


class Reach(IntEnum):
    """How far from their station a cadre may be paired: the tier of the farthest arc."""

    VILLAGE = 0
    TOWNSHIP = 1
    COUNTY = 2

    @classmethod
    def parse(cls, value: str | int | Reach) -> Reach:
        if isinstance(value, str) and not value.isdigit():
            return cls[value.upper()]
        return cls(int(value))


TIER_NAMES = {0: "同村 same village", 1: "同乡镇 same township", 2: "同县 same county", 3: "县外 another county"}
_GROUP_DIVISOR = {Reach.VILLAGE: 1, Reach.TOWNSHIP: 1_000, Reach.COUNTY: 1_000_000}


def tiers(household_code: np.ndarray, station_code: np.ndarray) -> np.ndarray:
    """0 same village, 1 same township, 2 same county, 3 further (12-digit codes as integers; a
    cadre stationed at a township has the township's zero-padded code, so it is never 同村)."""
    return ((household_code != station_code).astype(np.int8)
            + (household_code // 1_000 != station_code // 1_000)
            + (household_code // 1_000_000 != station_code // 1_000_000))


@dataclass
class Instance:
    """What the matcher needs, as plain arrays; the service fills it from the store.

    Households are the priority households to pair; cadres are the 在岗 cadres that may take
    them. ``held`` counts the active pairings a cadre keeps outside this instance, so it has
    ``pair_limit − held`` free places here. ``current`` is the index of the 在岗 cadre a household
    is actively paired with (-1 for none); ``excluded`` holds ``(household, cadre)`` index pairs
    from the exclusion list.
    """

    household_no: list[str]
    household_code: np.ndarray  # int64, 12-digit village code
    risk_score: np.ndarray  # int64
    current: np.ndarray  # int32, cadre index or -1
    cadre_no: list[str]
    station_code: np.ndarray  # int64
    pair_limit: np.ndarray  # int32
    held: np.ndarray  # int32
    excluded: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    reach: Reach = Reach.TOWNSHIP

    @property
    def capacity(self) -> np.ndarray:
        return np.clip(self.pair_limit - self.held, 0, None).astype(np.int64)

    @classmethod
    def from_records(cls, households: list[dict], cadres: list[dict], excluded: list[tuple[str, str]] = (),
                     reach: Reach = Reach.TOWNSHIP) -> Instance:
        """Build from plain records: households ``{household_no, region_code, risk_score,
        current_cadre_no?}``, cadres ``{cadre_no, station_code, pair_limit, held?}`` (tests, tools)."""
        cadre_index = {c["cadre_no"]: i for i, c in enumerate(cadres)}
        household_index = {h["household_no"]: i for i, h in enumerate(households)}
        pairs = [(household_index[h], cadre_index[c]) for h, c in excluded
                 if h in household_index and c in cadre_index]
        return cls(
            household_no=[h["household_no"] for h in households],
            household_code=np.array([int(h["region_code"]) for h in households], np.int64),
            risk_score=np.array([h["risk_score"] for h in households], np.int64),
            current=np.array([cadre_index.get(h.get("current_cadre_no"), -1) for h in households], np.int32),
            cadre_no=[c["cadre_no"] for c in cadres],
            station_code=np.array([int(c["station_code"]) for c in cadres], np.int64),
            pair_limit=np.array([c["pair_limit"] for c in cadres], np.int32),
            held=np.array([c.get("held", 0) for c in cadres], np.int32),
            excluded=np.array(pairs, np.int64).reshape(-1, 2), reach=reach)


@dataclass
class CandidateGraph:
    """Candidate arcs household → cadre, grouped into independent components.

    Arcs are sorted by component; ``bounds[k]:bounds[k+1]`` are the arcs of component ``k``, and
    ``households_of(k)`` / ``cadres_of(k)`` its nodes. ``in_reach`` and ``excluded_in_reach`` count,
    per household, the cadres within reach before and because of the exclusion list (for the
    explanations).
    """

    instance: Instance
    arc_household: np.ndarray  # int32
    arc_cadre: np.ndarray  # int32
    arc_tier: np.ndarray  # int8
    household_component: np.ndarray  # int32
    cadre_component: np.ndarray  # int32, -1 for a cadre no household can reach
    bounds: np.ndarray  # int64, len = components + 1
    in_reach: np.ndarray  # int64
    excluded_in_reach: np.ndarray  # int64
    _household_order: np.ndarray = field(repr=False, default=None)
    _household_bounds: np.ndarray = field(repr=False, default=None)
    _cadre_order: np.ndarray = field(repr=False, default=None)
    _cadre_bounds: np.ndarray = field(repr=False, default=None)

    @property
    def components(self) -> int:
        return len(self.bounds) - 1

    @property
    def arcs(self) -> int:
        return len(self.arc_household)

    def households_of(self, k: int) -> np.ndarray:
        return self._household_order[self._household_bounds[k]:self._household_bounds[k + 1]]

    def cadres_of(self, k: int) -> np.ndarray:
        return self._cadre_order[self._cadre_bounds[k]:self._cadre_bounds[k + 1]]


def build_candidates(instance: Instance) -> CandidateGraph:
    """All arcs within reach, minus excluded pairs, plus each household's existing 在岗 cadre
    wherever stationed (so continuity is always possible unless the pair is excluded).

    Examples:
        >>> inst = Instance.from_records(
        ...     [{"household_no": "H1", "region_code": "620822100001", "risk_score": 50}],
        ...     [{"cadre_no": "C1", "station_code": "620822100001", "pair_limit": 3},
        ...      {"cadre_no": "C2", "station_code": "620822100000", "pair_limit": 3},
        ...      {"cadre_no": "C3", "station_code": "620822101000", "pair_limit": 3}])
        >>> g = build_candidates(inst)
        >>> [(inst.cadre_no[c], int(t)) for c, t in zip(g.arc_cadre, g.arc_tier)]
        [('C1', 0), ('C2', 1)]
    """
    n, m = len(instance.household_no), len(instance.cadre_no)
    divisor = _GROUP_DIVISOR[instance.reach]
    h_group = instance.household_code // divisor
    c_group = instance.station_code // divisor

    # Every household × every cadre of its group, fully vectorised.
    c_sorted = np.argsort(c_group, kind="stable")
    c_groups_sorted = c_group[c_sorted]
    starts = np.searchsorted(c_groups_sorted, h_group, side="left")
    counts = np.searchsorted(c_groups_sorted, h_group, side="right") - starts
    arc_h = np.repeat(np.arange(n, dtype=np.int32), counts)
    first = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    arc_c = c_sorted[first + np.arange(len(arc_h))].astype(np.int32) if len(arc_h) else np.zeros(0, np.int32)

    excluded_keys = instance.excluded[:, 0] * m + instance.excluded[:, 1] if len(instance.excluded) else None
    excluded_in_reach = np.zeros(n, np.int64)
    if excluded_keys is not None and len(arc_h):
        drop = np.isin(arc_h.astype(np.int64) * m + arc_c, excluded_keys)
        excluded_in_reach = np.bincount(arc_h[drop], minlength=n)
        arc_h, arc_c = arc_h[~drop], arc_c[~drop]

    # Existing pairings that reach outside the group (a cadre stationed elsewhere).
    with_current = np.flatnonzero(instance.current >= 0)
    outside = c_group[instance.current[with_current]] != h_group[with_current]
    extra_h = with_current[outside].astype(np.int32)
    extra_c = instance.current[extra_h].astype(np.int32)
    if excluded_keys is not None and len(extra_h):
        keep = ~np.isin(extra_h.astype(np.int64) * m + extra_c, excluded_keys)
        extra_h, extra_c = extra_h[keep], extra_c[keep]
    arc_h = np.concatenate((arc_h, extra_h))
    arc_c = np.concatenate((arc_c, extra_c))
    arc_t = tiers(instance.household_code[arc_h], instance.station_code[arc_c])

    h_comp, c_comp = _components(h_group, c_group, extra_h, extra_c)
    order = np.argsort(h_comp[arc_h], kind="stable")
    arc_h, arc_c, arc_t = arc_h[order], arc_c[order], arc_t[order]
    k = int(h_comp.max()) + 1 if n else 0
    h_order = np.argsort(h_comp, kind="stable")
    c_reached = np.flatnonzero(c_comp >= 0)
    c_order = c_reached[np.argsort(c_comp[c_reached], kind="stable")]
    edges = np.arange(k + 1)
    return CandidateGraph(
        instance=instance, arc_household=arc_h, arc_cadre=arc_c, arc_tier=arc_t,
        household_component=h_comp, cadre_component=c_comp,
        bounds=np.searchsorted(h_comp[arc_h], edges, side="left").astype(np.int64),
        in_reach=counts.astype(np.int64), excluded_in_reach=excluded_in_reach,
        _household_order=h_order, _household_bounds=np.searchsorted(h_comp[h_order], edges, side="left"),
        _cadre_order=c_order, _cadre_bounds=np.searchsorted(c_comp[c_order], edges, side="left"))


def _components(h_group: np.ndarray, c_group: np.ndarray, extra_h: np.ndarray,
                extra_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Component ids (0..k-1) of households and cadres (-1: reaches no household). Each group is
    a component unless existing pairings that cross groups join it to others; networkx finds those
    on the small graph of groups (a province has ~1.2k townships)."""
    links = nx.Graph()
    links.add_nodes_from(np.unique(h_group).tolist())
    links.add_edges_from(zip(h_group[extra_h].tolist(), c_group[extra_c].tolist()))
    label = {group: k for k, members in enumerate(sorted(nx.connected_components(links), key=min))
             for group in members}
    h_comp = np.array([label[g] for g in h_group.tolist()], np.int32)
    c_comp = np.array([label.get(g, -1) for g in c_group.tolist()], np.int32)
    return h_comp, c_comp

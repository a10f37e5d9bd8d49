"""The synthetic regions are named as real ones are: no two children of one region alike."""

from __future__ import annotations

from collections import Counter

import pytest

from importers import synth


@pytest.mark.parametrize("preset", sorted(synth.PRESETS))
@pytest.mark.parametrize("seed", [1, 5])
def test_no_two_regions_of_one_parent_share_a_name(preset, seed):
    data = synth.generate(preset, seed=seed, households=1)  # every region, hardly any household
    names = Counter((r.parent, r.name) for r in data.regions)
    assert [key for key, n in names.items() if n > 1] == []
    townships = [r for r in data.regions if r.level.value == "township"]
    assert len(townships) == synth.PRESETS[preset].townships_per_county * len(
        [r for r in data.regions if r.level.value == "county"])


def test_a_name_drawn_twice_gives_way_to_the_next_free_one():
    taken: set[str] = set()
    names = ["甲村", "乙村", "丙村"]
    assert [synth._unique(n, names, taken) for n in ("乙村", "乙村", "乙村")] == ["乙村", "丙村", "甲村"]

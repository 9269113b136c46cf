"""find_cycle: no cycle in any DAG whatever its order, and a real cycle named whenever there is one."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from graphflow.utils.cycles import find_cycle


def random_dag(n: int, seed: int) -> dict:
    """Item i reads some items below i, plus keys outside the graph ("old-*"), listed in a shuffled order."""
    rng = random.Random(seed)
    deps = {i: [j for j in range(i) if rng.random() < 0.3] + [f"old-{i}"] * rng.randint(0, 1) for i in range(n)}
    order = list(deps)
    rng.shuffle(order)
    return {i: deps[i] for i in order}


def is_cycle_of(cycle: list, deps: dict) -> bool:
    """Each item of ``cycle`` reads the one before it, and it closes on its first item."""
    return len(cycle) >= 2 and cycle[0] == cycle[-1] and all(a in deps[b] for a, b in zip(cycle, cycle[1:]))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 30), seed=st.integers(0, 2**32))
def test_a_dag_in_any_order_has_no_cycle(n, seed):
    assert find_cycle(random_dag(n, seed)) is None


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**32), data=st.data())
def test_one_back_edge_makes_a_cycle_and_it_is_named(n, seed, data):
    deps = random_dag(n, seed)
    low = data.draw(st.integers(0, n - 1))
    high = data.draw(st.integers(low, n - 1))
    deps[low] = [*deps[low], high]  # low now reads high, which reads low (or is low) through the DAG, or not
    cycle = find_cycle(deps)
    reaches = {high}
    stack = [high]
    while stack:  # does high read low, directly or not?
        for d in deps[stack.pop()]:
            if d in deps and d not in reaches:
                reaches.add(d)
                stack.append(d)
    if low in reaches:
        assert cycle is not None and is_cycle_of(cycle, deps)
    else:
        assert cycle is None


def test_the_cycle_starts_at_its_item_listed_first_and_reads_in_execution_order():
    assert find_cycle({"x": ["z"], "y": ["x"], "z": ["y"]}) == ["x", "y", "z", "x"]
    assert find_cycle({"s": ["s"]}) == ["s", "s"]
    assert find_cycle({"later": ["first"], "first": []}) is None  # out of order, but no cycle

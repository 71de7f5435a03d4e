"""The build order of the graph checks is networkx's lexicographical topological sort by file
position, whichever shortcut computes it (file order when every ref points back)."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from graphspec import loads


def _spec(seed: int) -> tuple[str, list[str], list[tuple[str, str]]]:
    """A random DAG written in a random node order: (text, the file order, the edges)."""
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randint(2, 30))]  # a topological order
    edges = []
    lines = []
    for i, name in enumerate(names):
        sources = rng.sample(["x", *names[:i]], k=min(i + 1, rng.randint(1, 3)))
        edges += [(s, name) for s in sources]
        kind = "{merge: add, from: [" + ", ".join(sources) + "]}" if len(sources) > 1 else "{type: Dense, units: 4, from: " + sources[0] + "}"
        lines.append(f"  {name}: {kind}")
    if seed % 2:  # half the specs list their nodes out of order: some refs point forward
        rng.shuffle(lines)
    file_order = [line.split(":")[0].strip() for line in lines]
    last = names[-1]
    text = "inputs: {x: {shape: [4]}}\nnodes:\n" + "\n".join(lines) + f"\noutputs: [{last}]\n"
    return text, file_order, edges


@pytest.mark.parametrize("seed", range(40))
def test_build_order_is_the_lexicographical_topological_sort(seed: int) -> None:
    text, file_order, edges = _spec(seed)
    spec = loads(text)
    position = {name: i for i, name in enumerate(["x", *file_order])}
    graph = nx.DiGraph(edges)
    graph.add_nodes_from(position)
    expected = [n for n in nx.lexicographical_topological_sort(graph, key=position.__getitem__) if n != "x"]
    assert spec.checks is not None
    assert spec.checks.structure.orders[("nodes",)] == expected


def test_a_forward_ref_cycle_is_still_found() -> None:
    with pytest.raises(Exception, match="cycle: a -> b -> a"):
        loads("inputs: {x: {shape: [4]}}\nnodes:\n  a: {merge: add, from: [x, b]}\n  b: {type: Dense, units: 4, from: a}\noutputs: [b]\n")

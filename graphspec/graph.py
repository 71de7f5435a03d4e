"""The DAG of one scope (the file's top level, or one block definition), checked and ordered.

Checks every ref, share and output, finds cycles with their whole path, warns about
nodes that no output uses, and orders the nodes topologically with ties broken by
the order they appear in the file, so that layer order and weights are stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from graphspec.errors import Problem, did_you_mean
from graphspec.source import Path, SourceMap
from graphspec.spec import REF, BlockSpec, NodeSpec, Outputs, owner


@dataclass
class ScopeGraph:
    """A checked scope: the nodes in build order, and what was found wrong."""

    order: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # the nodes the problems are about


def output_names(outputs: Outputs) -> list[str]:
    """Names by which refs reach a block's outputs: mapping keys, or the nodes listed."""
    if isinstance(outputs, dict):
        return list(outputs)
    return [ref.split(".")[0] for ref in outputs]


def keras_output_names(outputs: Outputs) -> list[str]:
    """The names a model's outputs have in Keras (compile keys, training logs).

    A mapping's keys; for a list, each ref with ``.`` written ``_`` (``b.skip`` -> ``b_skip``).
    """
    if isinstance(outputs, dict):
        return list(outputs)
    return [ref.replace(".", "_") for ref in outputs if isinstance(ref, str)]


def split_ref(ref: str) -> tuple[str, str | None]:
    """``"enc.skip"`` -> ``("enc", "skip")``; ``"x"`` -> ``("x", None)``."""
    match = REF.match(ref)
    if not match:
        return ref, None
    return match.group(1), match.group(2)


def check_scope(
    inputs: Sequence[str],
    nodes: Mapping[str, NodeSpec],
    outputs: Outputs,
    base: Path,
    source: SourceMap,
    blocks: Mapping[str, BlockSpec],
) -> ScopeGraph:
    """Check refs, shares, outputs and cycles of one scope, and order its nodes.

    Args:
        inputs: the scope's input names.
        nodes: its nodes, in file order.
        outputs: its outputs as written.
        base: the path of ``nodes`` in the file (``("nodes",)`` or ``("blocks", b, "nodes")``).
        source: the file's source map.
        blocks: every block known to the file, for refs to block outputs.
    """
    result = ScopeGraph()
    graph: nx.DiGraph = nx.DiGraph()
    uses: nx.DiGraph = nx.DiGraph()  # data edges plus "share uses its target's layer"
    position = {name: i for i, name in enumerate(list(inputs) + list(nodes))}
    graph.add_nodes_from(position)
    uses.add_nodes_from(position)
    known = list(position)
    backward = False  # a ref to a node later in the file: file order is not a build order
    out_base = base[:-1] + ("outputs",)

    def check_ref(ref: str, path: Path, who: str) -> str | None:
        name, part = split_ref(ref)
        if name not in position:
            hint = did_you_mean(name, known, "nodes and inputs")  # within the load's suggestion budget
            result.problems.append(source.problem(path, f"{who}: unknown ref '{name}'", hint=hint, code="unknown-ref"))
            return None
        if part is not None:
            problem = _check_output_part(name, part, nodes, inputs, blocks)
            if problem:
                message, hint = problem
                result.problems.append(source.problem(path, f"{who}: {message}", hint=hint, code="unknown-output"))
        return name

    for name, node in nodes.items():
        path = base + (name,)
        who = owner(path)
        found = len(result.problems)
        for ref, sub in node.refs():
            source_name = check_ref(ref, path + sub, who)
            if source_name is not None:
                graph.add_edge(source_name, name)
                uses.add_edge(source_name, name)
                backward = backward or position[source_name] >= position[name]
        if node.kind == "share":
            target = node.share or ""
            shared = nodes.get(target)
            if shared is None:
                hint = did_you_mean(target, (n for n, s in nodes.items() if s.kind in ("layer", "block")), "layer nodes")
                message = f"{who} shares '{target}', which is an input, not a node with a layer" if target in inputs else f"{who} shares unknown node '{target}'"
                result.problems.append(source.problem(path + ("share",), message, hint=hint, code="bad-share"))
            elif target == name:
                result.problems.append(source.problem(path + ("share",), f"{who} shares itself", hint="name the layer node whose weights it reuses", code="bad-share"))
            elif shared.kind not in ("layer", "block"):
                original = shared.share if shared.kind == "share" else None
                result.problems.append(
                    source.problem(
                        path + ("share",),
                        f"{who} shares '{target}', a {shared.kind} node, which has no layer of its own",
                        hint=f"share '{original}' instead" if original else "share a layer or block node",
                        code="bad-share",
                    )
                )
            else:
                uses.add_edge(target, name)
        if len(result.problems) > found:
            result.broken.add(name)

    output_refs = outputs.items() if isinstance(outputs, dict) else enumerate(outputs)
    for key, ref in output_refs:
        if isinstance(ref, str):
            name = check_ref(ref, out_base + (key,), f"block '{base[1]}': outputs" if base[0] == "blocks" else "outputs")
            if name is not None:
                uses.add_edge(name, "<outputs>")

    if not backward:  # every ref to an earlier node: file order is the sort's own answer, and no cycle
        order, cyclic = list(position), False
    else:
        try:  # the sort finds any cycle: no search for one in a DAG
            order, cyclic = list(nx.lexicographical_topological_sort(graph, key=position.__getitem__)), False
        except nx.NetworkXUnfeasible:
            order, cyclic = [], True
    for component in nx.strongly_connected_components(graph) if cyclic else ():
        if len(component) == 1:
            (single,) = component
            if not graph.has_edge(single, single):
                continue
        first = min(component, key=position.__getitem__)
        cycle = [edge[0] for edge in nx.find_cycle(graph.subgraph(component), source=first)]
        cycle.append(cycle[0])
        result.broken |= set(component)
        result.problems.append(
            source.problem(
                base + (first, "from"),
                f"{owner(base + (first,))} is part of a cycle: " + " -> ".join(cycle),
                hint="a graph must not feed a node's output back into itself; break one 'from' of the cycle",
                code="cycle",
            )
        )
    if result.problems:
        return result

    result.order = [n for n in order if n in nodes]
    if "<outputs>" in uses:
        used = nx.ancestors(uses, "<outputs>")
        for name in nodes:
            if name not in used:
                result.warnings.append(
                    source.problem(
                        base + (name,),
                        f"{owner(base + (name,))} is not used by any output",
                        key=True,
                        hint="remove it, or list it under 'outputs'",
                        code="unused-node",
                        severity="warning",
                    )
                )
        for index, name in enumerate(inputs):
            if name not in used:
                in_block = base[0] == "blocks"
                result.warnings.append(
                    source.problem(
                        base[:-1] + ("inputs", index) if in_block else ("inputs", name),
                        f"{'block ' + repr(base[1]) + ': ' if in_block else ''}input '{name}' is not used by any output",
                        key=not in_block,
                        hint="remove it; a model still demands every input it declares" if not in_block else "remove it, and the ref that feeds it in each use of the block",
                        code="unused-input",
                        severity="warning",
                    )
                )
        result.warnings += _unused_block_outputs(nodes, outputs, used, base, source, blocks)
    return result


def _unused_block_outputs(
    nodes: Mapping[str, NodeSpec],
    outputs: Outputs,
    used: set[str],
    base: Path,
    source: SourceMap,
    blocks: Mapping[str, BlockSpec],
) -> list[Problem]:
    """Warnings for outputs of a used block node that no ref reaches, through the node or a share of it.

    In a flat block the layers only such an output needs are not created (hand-written
    Keras leaves them out of the model too); in a nested model
    (``model: true``) they stay, with weights that never train.
    """
    owners: dict[str, str] = {}  # node name -> the block node whose layers it calls
    for name, node in nodes.items():
        target = node.share if node.kind == "share" else name
        shared = nodes.get(target or "")
        if shared is not None and shared.kind == "block" and shared.block in blocks:
            owners[name] = str(target)
    if not owners:
        return []
    reached: dict[str, set[int]] = {}
    refs = [ref for node in nodes.values() for ref, _ in node.refs()]
    refs += [ref for ref in (outputs.values() if isinstance(outputs, dict) else outputs) if isinstance(ref, str)]
    for ref in refs:
        name, part = split_ref(ref)
        if name not in owners:
            continue
        names = output_names(blocks[str(nodes[owners[name]].block)].outputs)
        got = reached.setdefault(owners[name], set())
        if part is None:
            got.update(range(len(names)))  # a plain ref stands for every output
        elif part.isdigit():
            got.add(int(part))
        else:
            got.update(i for i, n in enumerate(names) if n == part)
    warnings = []
    for name, node in nodes.items():
        if owners.get(name) != name or name not in used:
            continue  # a share, or a node no output uses (GS206 says so)
        block = blocks[str(node.block)]
        names = output_names(block.outputs)
        for index, output in enumerate(names):
            if index in reached.get(name, set()) or len(names) < 2:
                continue
            what = (
                "the nested model still computes it and keeps the weights that only it needs, which never train"
                if block.model
                else "the layers that only it needs are not created"
            )
            warnings.append(
                source.problem(
                    base + (name,),
                    f"{owner(base + (name,))}: output '{output}' of block '{node.block}' is not used; {what}",
                    key=True,
                    hint=f"use '{name}.{output}', or remove the output from block '{node.block}' if no instance needs it",
                    code="unused-block-output",
                    severity="warning",
                )
            )
    return warnings


def _check_output_part(
    name: str,
    part: str,
    nodes: Mapping[str, NodeSpec],
    inputs: Sequence[str],
    blocks: Mapping[str, BlockSpec],
) -> tuple[str, str | None] | None:
    """Whether ``name.part`` can name one output of node `name`; (message, hint) if not."""
    if name in inputs:
        return f"input '{name}' has one output; '{name}.{part}' selects nothing", f"write '{name}'"
    node = nodes[name]
    if node.kind == "share" and node.share in nodes:
        node = nodes[node.share]
    block = blocks.get(node.block or "") if node.kind == "block" else None
    if block is None:
        if part.isdigit() or node.kind == "block":
            return None  # an index into a layer's outputs: checked when the layer is built
        return (
            f"'{name}.{part}': a {node.kind} node's outputs are selected by index ('{name}.0')",
            "names select outputs of block nodes only",
        )
    names = output_names(block.outputs)
    if part.isdigit():
        if int(part) >= len(names):
            return f"'{name}.{part}': block '{node.block}' has {len(names)} outputs", f"use an index below {len(names)}"
        return None
    if part not in names:
        return (
            f"block '{node.block}' has no output '{part}'",
            did_you_mean(part, names, "outputs"),
        )
    return None


def check_block_recursion(blocks: Mapping[str, BlockSpec]) -> list[Problem]:
    """A block that uses itself, directly or through others: one problem per loop."""
    graph: nx.DiGraph = nx.DiGraph()
    where: dict[tuple[str, str], tuple[BlockSpec, str]] = {}
    for name, block in blocks.items():
        graph.add_node(name)
        for node_name, node in block.nodes.items():
            if node.kind == "block" and node.block in blocks:
                graph.add_edge(name, node.block)
                where.setdefault((name, str(node.block)), (block, node_name))
    problems = []
    position = {name: index for index, name in enumerate(blocks)}  # once: an index per component was quadratic
    for component in nx.strongly_connected_components(graph):
        first = min(component, key=position.__getitem__)
        if len(component) == 1 and not graph.has_edge(first, first):
            continue
        loop = [edge[0] for edge in nx.find_cycle(graph.subgraph(component), source=first)]
        loop.append(loop[0])
        block, node_name = where[(loop[0], loop[1])]
        problems.append(
            block.source.problem(
                block.path + ("nodes", node_name, "block"),
                f"block '{first}' uses itself: " + " -> ".join(loop),
                hint="a block cannot contain itself, directly or through other blocks",
                code="recursive-block",
            )
        )
    return problems

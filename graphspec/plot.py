"""Pictures of a spec: Graphviz (DOT, SVG, PNG, PDF) and Mermaid, drawn from the spec alone.

The picture is drawn from the resolved graph (`graphspec.resolve.resolve`): params
substituted, blocks instantiated. Keras is imported only for ``shapes=True``, which
builds the model to label the edges with tensor shapes.

- inputs: blue parallelograms; outputs: green ovals;
- layers: grey rounded boxes with the layer type and key arguments;
- merges: orange hexagons; shares (a layer called again): dashed yellow boxes;
- each block instance: a cluster (``subgraph cluster_...``), or, with
  ``collapse_blocks=True``, one 3-D box.

Example:
    >>> graphspec.plot.plot("examples/branch.yaml", "branch.svg")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, Union

from graphspec.api import expanded, load
from graphspec.errors import budgeted
from graphspec.files import write_atomic
from graphspec.graph import output_names, split_ref
from graphspec.resolve import Graph, Node, all_refs
from graphspec.spec import Spec

__all__ = ["FORMATS", "GraphvizMissing", "PlotError", "picture", "plot", "render", "to_dot", "to_mermaid"]

PathLike = Union[str, "os.PathLike[str]"]

#: output suffix -> what is written
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}

#: the arguments shown on a node, in this order
KEY_ARGUMENTS = (
    "units", "filters", "kernel_size", "strides", "pool_size", "size", "padding", "activation", "rate",
    "num_heads", "key_dim", "input_dim", "output_dim", "axis", "axes", "target_shape", "return_sequences",
    "return_state", "merge_mode", "repeat",
)

_STYLE = {
    "input": 'shape=parallelogram, style=filled, fillcolor="#cfe2ff", color="#3b6fb6"',
    "output": 'shape=oval, style="filled,bold", fillcolor="#c8f0c8", color="#2e7d32"',
    "layer": 'shape=box, style="rounded,filled", fillcolor="#f5f5f5", color="#555555"',
    "merge": 'shape=hexagon, style=filled, fillcolor="#ffe0b3", color="#c77700"',
    "share": 'shape=box, style="rounded,filled,dashed", fillcolor="#fff7d6", color="#9a7d0a"',
    "block": 'shape=box3d, style=filled, fillcolor="#e8dcff", color="#5e35b1"',
    "port": 'shape=plain, fontcolor="#5e35b1"',
}
_MERMAID_CLASSES = {
    "input": "fill:#cfe2ff,stroke:#3b6fb6",
    "output": "fill:#c8f0c8,stroke:#2e7d32,stroke-width:2px",
    "layer": "fill:#f5f5f5,stroke:#555555",
    "merge": "fill:#ffe0b3,stroke:#c77700",
    "share": "fill:#fff7d6,stroke:#9a7d0a,stroke-dasharray:4 3",
    "block": "fill:#e8dcff,stroke:#5e35b1",
    "port": "fill:#ffffff,stroke:#5e35b1",
}
_MERMAID_SHAPES = {
    "input": ('[/"', '"/]'),
    "output": ('(["', '"])'),
    "layer": ('["', '"]'),
    "merge": ('{{"', '"}}'),
    "share": ('>"', '"]'),
    "block": ('[["', '"]]'),
    "port": ('(("', '"))'),
}
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click", "linkstyle", "default", "call", "href", "direction"}


class PlotError(Exception):
    """The picture cannot be made (an unknown format, a failed render); the message says why."""


class GraphvizMissing(PlotError):
    """The ``dot`` program of Graphviz is not installed."""


# --------------------------------------------------------------------------- the picture, as data


@dataclass
class Element:
    """One box of the picture."""

    id: str
    kind: str  # input, output, layer, merge, share, block, port
    lines: list[str]


@dataclass
class Cluster:
    """A block instance drawn with its inside."""

    id: str
    label: str
    elements: list[Element] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)


@dataclass
class Edge:
    source: str
    target: str
    label: str | None = None
    dashed: bool = False


@dataclass
class Picture:
    """Elements, clusters and edges of a drawing, independent of its format."""

    name: str
    top: Cluster
    edges: list[Edge] = field(default_factory=list)


def picture(graph: Graph, *, collapse_blocks: bool = False, shapes: Mapping[tuple[str, ...], Any] | None = None) -> Picture:
    """The drawing of a resolved graph.

    Args:
        graph: from `graphspec.resolve.resolve`.
        collapse_blocks: draw each block instance as one node instead of a cluster.
        shapes: ``(instance path..., node name) -> shape`` of each node's output (or
            outputs), from `tensor_shapes`, to label the edges.
    """
    drawing = Picture(graph.name, Cluster("top", graph.name))
    _Drawer(drawing, collapse_blocks, shapes or {}).top(graph)
    return drawing


class _Drawer:
    def __init__(self, drawing: Picture, collapse: bool, shapes: Mapping[tuple[str, ...], Any]) -> None:
        self.drawing = drawing
        self.collapse = collapse
        self.shapes = shapes

    def top(self, graph: Graph) -> None:
        cluster = self.drawing.top
        sources: dict[str, Any] = {}
        for spec in graph.inputs:
            shape = "[" + ", ".join("null" if d is None else str(d) for d in spec.shape) + "]"
            dtype = f" {spec.dtype}" if spec.dtype and spec.dtype != "float32" else ""
            cluster.elements.append(Element(spec.name, "input", [spec.name, f"Input {shape}{dtype}"]))
            sources[spec.name] = _Source(spec.name, (spec.name,))
        scope_sources = self.scope(graph, cluster, sources, ())
        outputs = graph.outputs.items() if isinstance(graph.outputs, dict) else [(r, r) for r in graph.outputs]
        for name, ref in outputs:
            element = Element(f"output:{name}", "output", [name, "output"])
            cluster.elements.append(element)
            self.edge(scope_sources, ref, element.id, ())

    def scope(self, graph: Graph, cluster: Cluster, sources: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
        """Draw `graph`'s nodes into `cluster`; `sources` maps each name to what draws it."""
        by_name = {node.name: node for node in graph.nodes}
        for node in graph.nodes:
            node_id = "/".join(path + (node.name,))
            if node.kind == "block" and node.body is not None and not self.collapse:
                inner = Cluster(node_id, _cluster_label(node))
                cluster.clusters.append(inner)
                inner_sources: dict[str, Any] = {}
                for index, input_name in enumerate(node.body.input_names):
                    port = Element(f"{node_id}/{input_name}", "port", [input_name])
                    inner.elements.append(port)
                    inner_sources[input_name] = _Source(port.id, path + (node.name, input_name))
                    for ref in _refs_for_input(node.inputs, input_name, index):
                        self.edge(sources, ref, port.id, path)
                body_sources = self.scope(node.body, inner, inner_sources, path + (node.name,))
                outputs = node.body.outputs
                refs = list(outputs.values()) if isinstance(outputs, dict) else list(outputs)
                resolved = [body_sources_ref(body_sources, r) for r in refs]
                sources[node.name] = _Source(None, path + (node.name,), outputs=dict(zip(output_names(node.body.outputs), resolved, strict=False)), ordered=resolved)
                continue
            element = Element(node_id, node.kind, self.lines(node, by_name))
            cluster.elements.append(element)
            sources[node.name] = _Source(node_id, path + (node.name,))
            for ref in all_refs(node.inputs):
                self.edge(sources, ref, node_id, path)
            if node.kind == "share" and node.target in sources:
                reused = sources[node.target].select(None)  # a layer, or a block cluster's first output
                if reused is not None:
                    self.drawing.edges.append(Edge(reused, node_id, None, dashed=True))
        return sources

    def lines(self, node: Node, by_name: Mapping[str, Node]) -> list[str]:
        if node.kind == "layer":
            kind = node.target + (f" ×{node.repeat}" if node.repeat else "")
            wrapped = node.args.get("layer")
            if isinstance(wrapped, dict) and "type" in wrapped:
                kind += f"({wrapped['type']})"
                details = _arguments_text(wrapped)
                if details:
                    kind += f" [{details}]"
        elif node.kind == "merge":
            kind = node.target
        elif node.kind == "share":
            kind = f"share: {node.target}"
        else:
            kind = f"block {node.target}" + (f" ×{node.repeat}" if node.repeat else "")
        lines = [node.name, kind]
        if node.kind == "block":
            args = ", ".join(f"{k}={_value_text(v)}" for k, v in node.args.items())
        else:
            args = _arguments_text(node.args)
        if args:
            lines.append(args)
        return lines

    def edge(self, sources: Mapping[str, Any], ref: str, target: str, path: tuple[str, ...]) -> None:
        name, part = split_ref(ref)
        source = sources.get(name)
        if source is None:
            return
        origin = source.select(part)
        if origin is None:
            return
        label = None
        if self.shapes:
            label = _shape_text(_select_shape(self.shapes.get(source.path), part))
        carried = source.output_name(part)
        if carried is not None:  # an edge out of a multi-output block says which output it carries
            label = f"{carried} {label}" if label else carried
        self.drawing.edges.append(Edge(origin, target, label))


@dataclass
class _Source:
    """What a name in a scope draws to: an element id, or a block's output elements."""

    id: str | None
    path: tuple[str, ...]
    outputs: dict[str, str | None] = field(default_factory=dict)
    ordered: list[str | None] = field(default_factory=list)

    def output_name(self, part: str | None) -> str | None:
        """The name of the block output `part` selects, for a block with several outputs."""
        names = list(self.outputs)
        if self.id is not None or part is None or len(self.ordered) < 2:
            return None
        if part.isdigit():
            return names[int(part)] if int(part) < len(names) and len(names) == len(self.ordered) else part
        return part

    def select(self, part: str | None) -> str | None:
        if self.id is not None:
            return self.id
        if part is None:
            return self.ordered[0] if self.ordered else None
        if part.isdigit():
            index = int(part)
            return self.ordered[index] if index < len(self.ordered) else None
        return self.outputs.get(part)


def body_sources_ref(sources: Mapping[str, _Source], ref: str) -> str | None:
    name, part = split_ref(ref)
    source = sources.get(name)
    return source.select(part) if source is not None else None


def _refs_for_input(refs: Any, name: str, index: int) -> list[str]:
    if isinstance(refs, dict):
        return all_refs(refs.get(name))
    if isinstance(refs, list):
        return [refs[index]] if index < len(refs) and isinstance(refs[index], str) else []
    return [refs] if isinstance(refs, str) and index == 0 else []


def _cluster_label(node: Node) -> str:
    """A block instance's cluster: the instance, its block and params; for a flat block, how its
    layers are named (``layers down1_*``)."""
    label = f"{node.name}: block {node.target}" + (f" ×{node.repeat}" if node.repeat else "")
    args = ", ".join(f"{k}={_value_text(v)}" for k, v in node.args.items())
    if args:
        label += f" ({args})"
    return label if node.body is not None and node.body.as_model else label + f"; layers {node.name}_*"


def _arguments_text(args: Mapping[str, Any]) -> str:
    shown = [f"{key}={_value_text(args[key])}" for key in KEY_ARGUMENTS if key in args and key != "type"]
    return ", ".join(shown)


def _value_text(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "×".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("type", "{...}"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _select_shape(shape: Any, part: str | None) -> Any:
    if part is None or shape is None:
        return shape
    if isinstance(shape, dict):
        if part.isdigit():
            values = list(shape.values())
            return values[int(part)] if int(part) < len(values) else None
        return shape.get(part)
    if isinstance(shape, list) and part.isdigit() and int(part) < len(shape):
        return shape[int(part)]
    return None


def _shape_text(shape: Any) -> str | None:
    if shape is None:
        return None
    if isinstance(shape, tuple):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_shape_text(v)}" for k, v in shape.items())
    if isinstance(shape, list):
        return ", ".join(_shape_text(v) or "?" for v in shape)
    return str(shape)


# --------------------------------------------------------------------------- formats


RANKDIRS = ("TB", "LR", "BT", "RL")


def _check_rankdir(rankdir: str) -> None:
    if rankdir not in RANKDIRS:
        raise PlotError(f"rankdir must be one of {', '.join(RANKDIRS)}, found '{rankdir}'")


def to_dot(drawing: Picture, *, rankdir: str = "TB", dpi: int | None = None) -> str:
    """Graphviz DOT text; each block instance is a ``subgraph cluster_...``.

    Args:
        drawing: from `picture`.
        rankdir: the direction of the flow: TB (top to bottom), LR, BT or RL.
        dpi: the resolution of a rendered image (Graphviz's default, 96, when None).
    """
    _check_rankdir(rankdir)
    lines = [
        f"digraph {_dot_id(drawing.name)} {{",
        f"  rankdir={rankdir};" + (f" dpi={int(dpi)};" if dpi else ""),
        '  graph [fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=0.35];',
        '  node [fontname="Helvetica", fontsize=10, margin="0.12,0.05"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#444444"];',
    ]
    lines += _dot_cluster_body(drawing.top, "  ")
    for edge in drawing.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_string(' ' + edge.label)}")
        if edge.dashed:
            attributes.append('style=dashed, color="#9a7d0a", arrowhead=none, constraint=false')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_dot_id(edge.source)} -> {_dot_id(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_cluster_body(cluster: Cluster, indent: str) -> list[str]:
    lines = []
    for element in cluster.elements:
        label = "\\n".join(_dot_escape(line) for line in element.lines)
        lines.append(f'{indent}{_dot_id(element.id)} [label="{label}", {_STYLE[element.kind]}];')
    for inner in cluster.clusters:
        lines.append(f"{indent}subgraph {_dot_id('cluster_' + inner.id)} {{")
        lines.append(f'{indent}  label={_dot_string(inner.label)}; style="rounded,filled"; fillcolor="#f3efff"; color="#5e35b1"; fontcolor="#311b92";')
        lines += _dot_cluster_body(inner, indent + "  ")
        lines.append(f"{indent}}}")
    return lines


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_string(text: str) -> str:
    return '"' + _dot_escape(text) + '"'


def _dot_id(text: str) -> str:
    return _dot_string(text)


def to_mermaid(drawing: Picture, *, rankdir: str = "TB") -> str:
    """Mermaid flowchart text; each block instance is a subgraph; `rankdir` as `to_dot`'s."""
    _check_rankdir(rankdir)
    ids: dict[str, str] = {}
    taken: set[str] = set()

    def mid(element_id: str) -> str:
        if element_id not in ids:
            base = re.sub(r"[^A-Za-z0-9_]", "_", element_id.replace("/", "__").replace(":", "_")) or "n"
            if base.lower() in _MERMAID_RESERVED or not re.match(r"[A-Za-z_]", base):
                base = base + "_"
            candidate, k = base, 2
            while candidate in taken:
                candidate, k = f"{base}_{k}", k + 1
            taken.add(candidate)
            ids[element_id] = candidate
        return ids[element_id]

    lines = [f"flowchart {'TD' if rankdir == 'TB' else rankdir}"]

    def body(cluster: Cluster, indent: str) -> None:
        for element in cluster.elements:
            left, right = _MERMAID_SHAPES[element.kind]
            label = "<br/>".join(_mermaid_escape(line) for line in element.lines)
            lines.append(f"{indent}{mid(element.id)}{left}{label}{right}:::{element.kind}")
        for inner in cluster.clusters:
            lines.append(f'{indent}subgraph {mid("cluster_" + inner.id)} ["{_mermaid_escape(inner.label)}"]')
            body(inner, indent + "  ")
            lines.append(f"{indent}end")

    body(drawing.top, "  ")
    for edge in drawing.edges:
        if edge.dashed:
            lines.append(f"  {mid(edge.source)} -.- {mid(edge.target)}")
        elif edge.label:
            lines.append(f'  {mid(edge.source)} -->|"{_mermaid_escape(edge.label)}"| {mid(edge.target)}')
        else:
            lines.append(f"  {mid(edge.source)} --> {mid(edge.target)}")
    for kind, style in _MERMAID_CLASSES.items():
        lines.append(f"  classDef {kind} {style}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def render(dot: str, fmt: str) -> bytes:
    """Render DOT text with Graphviz's ``dot`` program (``svg``, ``png``, ``pdf``).

    Raises:
        GraphvizMissing: ``dot`` is not on the PATH.
        PlotError: ``dot`` failed.
    """
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizMissing(
            f"cannot write .{fmt}: Graphviz's 'dot' program is not installed (or not on PATH); "
            "install Graphviz (apt-get install graphviz, brew install graphviz, conda install graphviz), "
            "or write .dot or .mmd (Mermaid) instead, which need no Graphviz"
        )
    try:
        import graphviz  # the Python package: optional; `dot` itself is what matters
    except ImportError:
        graphviz = None
    if graphviz is not None:
        try:
            return graphviz.Source(dot).pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise GraphvizMissing(
                f"cannot write .{fmt}: Graphviz's 'dot' program is not installed (or not on PATH); "
                "install Graphviz (apt-get install graphviz), or write .dot or .mmd instead"
            ) from None
        except graphviz.CalledProcessError as error:
            raise PlotError(f"Graphviz failed: {(error.stderr or b'').decode(errors='replace').strip()}") from None
    result = subprocess.run([executable, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, check=False)
    if result.returncode != 0:
        raise PlotError(f"Graphviz failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


# --------------------------------------------------------------------------- shapes


def tensor_shapes(graph: Graph, custom_objects: Mapping[str, Any] | None = None) -> dict[tuple[str, ...], Any]:
    """Build the graph with Keras; ``(instance path..., node name) -> output shape(s)``.

    Inputs count as nodes (``("x",) -> (None, 784)``); the insides of block instances
    are labelled too (those of a repeated block's first copy).

    Raises:
        SpecError: the spec does not build.
    """
    from graphspec.backend import import_keras

    import_keras()  # Keras missing: a BackendError that says which extra to install
    from graphspec.compiler import compile_model  # Keras is imported here only

    tensors: dict[tuple[str, ...], Any] = {}
    compile_model(graph, custom_objects, tensors=tensors)  # every problem as a SpecError, as `build` reports it
    return {path: _shape_of(value) for path, value in tensors.items()}


def _shape_of(value: Any) -> Any:
    if hasattr(value, "shape"):
        return tuple(value.shape)
    if isinstance(value, dict):
        return {k: _shape_of(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return None


# --------------------------------------------------------------------------- files


@budgeted
def plot(
    source: PathLike | Spec,
    out: PathLike,
    *,
    params: Mapping[str, Any] | None = None,
    collapse_blocks: bool = False,
    shapes: bool = False,
    custom_objects: Mapping[str, Any] | None = None,
    custom_types: Iterable[str] = (),
    rankdir: str = "TB",
    dpi: int | None = None,
) -> None:
    """Draw a spec into `out`, whose suffix picks the format (.svg .png .pdf .dot .mmd).

    Args:
        source: a spec file, or a `Spec` from `graphspec.load`.
        out: the picture's path; written atomically.
        params: overrides of the spec's params.
        collapse_blocks: each block instance as one node rather than a cluster.
        shapes: build the model (imports Keras) and label edges with tensor shapes.
        custom_objects: custom layers, for `shapes` (their names count as `custom_types`).
        custom_types: names of custom layer types the spec may use (drawn without Keras).
        rankdir: the direction of the flow: TB (default), LR (a deep model fits a wide page), BT, RL.
        dpi: the resolution of a .png (Graphviz's default 96 when None).

    Raises:
        SpecError: the spec is wrong (or, with `shapes`, does not build).
        PlotError: an unknown suffix; GraphvizMissing for an image without ``dot``.
    """
    fmt = output_format(out)
    _check_rankdir(rankdir)
    if dpi is not None and not 10 <= dpi <= 2400:
        raise PlotError(f"--dpi must be between 10 and 2400, found {dpi}")
    custom_types = sorted(set(custom_types) | set(custom_objects or ()))
    spec = source if isinstance(source, Spec) else load(source, params=params, custom_types=custom_types)
    graph = expanded(spec, params, custom_types=custom_types)  # load's graph, unless params change it
    shape_map = tensor_shapes(graph, custom_objects) if shapes else None
    drawing = picture(graph, collapse_blocks=collapse_blocks, shapes=shape_map)
    if fmt == "mermaid":
        data: str | bytes = to_mermaid(drawing, rankdir=rankdir)
    elif fmt == "dot":
        data = to_dot(drawing, rankdir=rankdir, dpi=dpi)
    else:
        data = render(to_dot(drawing, rankdir=rankdir, dpi=dpi), fmt)
    write_atomic(out, data)


def output_format(out: PathLike) -> str:
    """The format an output file's suffix asks for."""
    suffix = FilePath(os.fspath(out)).suffix.lower()
    if suffix not in FORMATS:
        raise PlotError(f"cannot tell the picture format from '{os.fspath(out)}': use a name ending in " + ", ".join(sorted(set(FORMATS) - {".gv"})))
    return FORMATS[suffix]


def formats() -> Iterable[str]:
    return sorted(FORMATS)

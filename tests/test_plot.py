"""graphspec.plot and `graphspec plot`: pictures of a spec, drawn from the spec alone.

Every format is checked for validity: SVG parses as XML with an <svg> root, DOT is
rendered by Graphviz, PNG and PDF start with their signatures, Mermaid starts with
``flowchart`` and has the spec's edges. Without Graphviz's ``dot`` program, image
formats fail with a message saying what to install, exit code 2, no traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import graphspec
from graphspec import plot as gplot
from graphspec.resolve import resolve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

BRANCH_EDGES = [("x", "h_1"), ("h_1", "h_2"), ("h_1", "z"), ("h_2", "u"), ("z", "u"), ("u", "y"), ("y", "output:y")]


def drawing(name: str, **kwargs: object) -> gplot.Picture:
    graph = resolve(graphspec.load(EXAMPLES / f"{name}.yaml"))
    return gplot.picture(graph, **kwargs)  # type: ignore[arg-type]


def run_cli(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphspec", *args], cwd=cwd, capture_output=True, text=True, env=env)


def svg_root(data: bytes | str) -> ET.Element:
    root = ET.fromstring(data if isinstance(data, bytes) else data.encode())
    assert root.tag.endswith("svg"), root.tag
    return root


def svg_texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter() if t.tag.endswith("text")]


# --------------------------------------------------------------------------- DOT


def test_dot_has_every_node_and_edge() -> None:
    dot = gplot.to_dot(drawing("branch"))
    assert dot.startswith('digraph "branch_and_merge" {')
    for source, target in BRANCH_EDGES:
        assert f'"{source}" -> "{target}";' in dot
    assert '"x" [label="x\\nInput [784]", shape=parallelogram' in dot
    assert '"h_1" [label="h_1\\nDense\\nunits=500, activation=sigmoid", shape=box' in dot
    assert '"u" [label="u\\nconcatenate", shape=hexagon' in dot
    assert '"output:y" [label="y\\noutput", shape=oval' in dot


def test_inputs_merges_outputs_and_layers_look_different() -> None:
    dot = gplot.to_dot(drawing("branch"))
    styles = {}
    for line in dot.splitlines():
        if "[label=" in line:
            name = line.split('"')[1]
            styles[name] = line.split('", ', 1)[1]
    assert len({styles["x"], styles["h_1"], styles["u"], styles["output:y"]}) == 4
    assert styles["h_1"] == styles["h_2"] == styles["y"]


@needs_dot
def test_dot_is_valid_graphviz() -> None:
    for name in ("branch", "cyclegan", "unet", "keywords_wrapper"):
        result = subprocess.run(["dot", "-Tsvg"], input=gplot.to_dot(drawing(name)).encode(), capture_output=True, check=True)
        svg_root(result.stdout)


def test_each_block_instance_is_a_cluster() -> None:
    dot = gplot.to_dot(drawing("cyclegan"))
    assert 'subgraph "cluster_g_ab" {' in dot and 'subgraph "cluster_g_ba" {' in dot
    assert 'subgraph "cluster_g_ab/res" {' in dot  # a block inside a block: a nested cluster
    assert 'label="g_ab: block generator (filters=16)"' in dot
    assert 'label="res: block residual ×2 (filters=32); layers res_*"' in dot  # flat, inside the nested model
    assert '"g_ab/stem" [label="stem\\nConv2D\\nfilters=16, kernel_size=7, padding=same, activation=relu"' in dot
    assert '"real_a" -> "g_ab/image";' in dot  # into the block, through its input
    assert '"g_ab/out" -> "output:fake_b";' in dot  # out of the block, from the node its output names
    assert '"g_ab/out" -> "cycled_a";' in dot
    assert '"cycled_a" [label="cycled_a\\nshare: g_ba"' in dot


def test_edges_out_of_multi_output_blocks_name_the_output() -> None:
    dot = gplot.to_dot(drawing("unet"))
    assert 'label="down1: block down (filters=16); layers down1_*"' in dot
    assert '"down1/pool" -> "down2/x" [label=" out"];' in dot  # down1.out, without --shapes
    assert '"down1/conv/second/relu" -> "up1/skip" [label=" skip"];' in dot  # down1.skip
    assert '"up2/conv/second/relu" -> "up1/x";' in dot  # a one-output block: no label


def test_rankdir_and_dpi(tmp_path: Path) -> None:
    dot = gplot.to_dot(drawing("branch"), rankdir="LR", dpi=200)
    assert "  rankdir=LR; dpi=200;\n" in dot
    assert gplot.to_mermaid(drawing("branch"), rankdir="LR").startswith("flowchart LR\n")
    with pytest.raises(gplot.PlotError, match="rankdir must be one of TB, LR, BT, RL"):
        gplot.to_dot(drawing("branch"), rankdir="XY")
    gplot.plot(EXAMPLES / "branch.yaml", tmp_path / "b.dot", rankdir="LR", dpi=300)
    assert "rankdir=LR; dpi=300;" in (tmp_path / "b.dot").read_text()
    with pytest.raises(gplot.PlotError, match="--dpi must be between 10 and 2400"):
        gplot.plot(EXAMPLES / "branch.yaml", tmp_path / "b.dot", dpi=5)


def test_collapse_blocks_draws_one_node_per_instance() -> None:
    dot = gplot.to_dot(drawing("cyclegan", collapse_blocks=True))
    assert "subgraph" not in dot
    assert '"g_ab" [label="g_ab\\nblock generator\\nfilters=16", shape=box3d' in dot
    assert '"real_a" -> "g_ab";' in dot and '"g_ab" -> "cycled_a";' in dot and '"g_ab" -> "output:fake_b";' in dot


def test_refs_to_one_output_of_a_block_or_layer() -> None:
    unet = gplot.to_dot(drawing("unet"))
    assert 'subgraph "cluster_down1"' in unet
    kw = gplot.to_dot(drawing("keywords_wrapper"))
    assert '"enc" -> "att";' in kw and '"tgt_emb" -> "att";' in kw and '"enc" -> "state";' in kw
    assert "Bidirectional(LSTM) [units=32, return_sequences=true]" in kw


def test_shared_layers_are_linked_to_their_owner() -> None:
    dot = gplot.to_dot(drawing("siamese"))
    assert '"enc_right" [label="enc_right\\nshare: enc_left"' in dot
    # A share of a block node: the dashed line comes from the block's output.
    assert '"enc_left/enc" -> "enc_right" [style=dashed' in dot
    dot = gplot.to_dot(drawing("ticket_classifier"))
    assert "style=dashed" not in dot


def test_shapes_label_the_edges() -> None:
    graph = resolve(graphspec.load(EXAMPLES / "branch.yaml"))
    shapes = gplot.tensor_shapes(graph)
    assert shapes[("u",)] == (None, 1000)
    dot = gplot.to_dot(gplot.picture(graph, shapes=shapes))
    assert '"x" -> "h_1" [label=" (None, 784)"];' in dot
    assert '"u" -> "y" [label=" (None, 1000)"];' in dot
    cycle = resolve(graphspec.load(EXAMPLES / "cyclegan.yaml"))
    dot = gplot.to_dot(gplot.picture(cycle, shapes=gplot.tensor_shapes(cycle)))
    assert '"g_ab/down" -> "g_ab/res/x" [label=" (None, 16, 16, 32)"];' in dot


# --------------------------------------------------------------------------- Mermaid


def test_mermaid_flowchart_with_edges() -> None:
    text = gplot.to_mermaid(drawing("branch"))
    assert text.startswith("flowchart TD\n")
    lines = text.splitlines()
    for source, target in BRANCH_EDGES:
        assert f"  {source.replace(':', '_')} --> {target.replace(':', '_')}" in lines
    assert '  x[/"x<br/>Input [784]"/]:::input' in lines
    assert '  u{{"u<br/>concatenate"}}:::merge' in lines


def test_mermaid_blocks_are_subgraphs() -> None:
    text = gplot.to_mermaid(drawing("cyclegan"))
    assert '  subgraph cluster_g_ab ["g_ab: block generator (filters=16)"]' in text
    assert '    subgraph cluster_g_ab__res ["res: block residual ×2 (filters=32); layers res_*"]' in text
    assert "  real_a --> g_ab__image" in text
    assert text.count("\n  end\n") == 2 and text.count("\n    end\n") == 2
    collapsed = gplot.to_mermaid(drawing("cyclegan", collapse_blocks=True))
    assert "subgraph" not in collapsed and '  g_ab[["g_ab<br/>block generator<br/>filters=16"]]:::block' in collapsed


def test_mermaid_ids_avoid_keywords() -> None:
    spec = graphspec.loads("inputs: {x: {shape: [2]}}\nnodes:\n  end: {type: Dense, units: 1, from: x}\noutputs: [end]\n")
    text = gplot.to_mermaid(gplot.picture(resolve(spec)))
    assert "  x --> end_" in text and "  end_ --> output_end" in text


# --------------------------------------------------------------------------- files and the command line


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf", ".dot", ".mmd"])
def test_plot_writes_each_format(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"branch{suffix}"
    gplot.plot(EXAMPLES / "branch.yaml", out)
    data = out.read_bytes()
    if suffix == ".svg":
        assert "h_1" in svg_texts(svg_root(data))
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    elif suffix == ".pdf":
        assert data.startswith(b"%PDF")
    elif suffix == ".dot":
        assert data.startswith(b'digraph "branch_and_merge"')
    else:
        assert data.startswith(b"flowchart TD")
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # written atomically, nothing left over


def test_plot_does_not_import_keras(tmp_path: Path) -> None:
    script = (
        "import sys, graphspec.plot as p\n"
        f"p.plot({str(EXAMPLES / 'cyclegan.yaml')!r}, {str(tmp_path / 'c.mmd')!r})\n"
        f"p.plot({str(EXAMPLES / 'cyclegan.yaml')!r}, {str(tmp_path / 'c.dot')!r}, collapse_blocks=True)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@needs_dot
def test_cli_plot(tmp_path: Path) -> None:
    result = run_cli("plot", "examples/cyclegan.yaml", "-o", str(tmp_path / "c.svg"), "--collapse-blocks")
    assert result.returncode == 0, result.stderr
    texts = svg_texts(svg_root((tmp_path / "c.svg").read_bytes()))
    assert "g_ab" in texts and "block generator" in texts
    result = run_cli("plot", "examples/branch.yaml", "-o", str(tmp_path / "b.dot"), "--shapes", "--param", "hidden=20")
    assert result.returncode == 0, result.stderr
    assert '"u" -> "y" [label=" (None, 40)"];' in (tmp_path / "b.dot").read_text()


def test_cli_plot_errors(tmp_path: Path) -> None:
    import io

    from graphspec import cli

    def run(*args: str) -> tuple[int, str]:
        err = io.StringIO()
        return cli.main(list(args), out=io.StringIO(), err=err), err.getvalue()

    code, err = run("plot", "examples/branch.yaml", "-o", str(tmp_path / "b.jpeg"))
    assert code == 2 and "cannot tell the picture format from" in err and ".mmd" in err
    (tmp_path / "bad.yaml").write_text("inputs: {x: {shape: [4]}}\nnodes:\n  y: {type: Dense, units: 2, from: xx}\noutputs: [y]\n")
    code, err = run("plot", str(tmp_path / "bad.yaml"), "-o", str(tmp_path / "bad.mmd"))
    assert code == 1 and "unknown ref 'xx'" in err
    code, err = run("plot", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "m.mmd"))
    assert code == 2
    code, err = run("plot", "examples/branch.yaml", "-o", str(tmp_path / "no" / "dir" / "b.mmd"))
    assert code == 2 and "cannot write" in err
    code, err = run("plot", "examples/resnet50.yaml", "-o", str(tmp_path / "r.dot"), "--rankdir", "LR", "--dpi", "150")
    assert code == 0 and "rankdir=LR; dpi=150;" in (tmp_path / "r.dot").read_text()
    code, err = run("plot", "examples/branch.yaml", "-o", str(tmp_path / "b.png"), "--dpi", "0")
    assert code == 2 and "--dpi must be between 10 and 2400" in err
    assert not (tmp_path / "bad.mmd").exists()


def test_without_graphviz_images_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    for suffix in (".svg", ".png", ".pdf"):
        result = run_cli("plot", "examples/branch.yaml", "-o", str(tmp_path / f"b{suffix}"), env=env)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        message = result.stderr.strip()
        assert message.startswith(f"graphspec plot: error: cannot write {suffix}: Graphviz's 'dot' program is not installed")
        assert "apt-get install graphviz" in message and ".dot or .mmd" in message
        assert not (tmp_path / f"b{suffix}").exists()
    for suffix in (".dot", ".mmd"):  # text formats need no Graphviz
        assert run_cli("plot", "examples/branch.yaml", "-o", str(tmp_path / f"b{suffix}"), env=env).returncode == 0


@needs_dot
def test_docs_picture_is_the_branch_example() -> None:
    picture = ROOT / "docs" / "branch.svg"
    if not picture.exists():
        pytest.skip("docs/branch.svg not generated")
    texts = svg_texts(svg_root(picture.read_bytes()))
    for name in ("x", "h_1", "h_2", "z", "u", "y"):
        assert name in texts

"""`graphspec lsp`, driven as an editor drives it: a subprocess speaking JSON-RPC over stdio.

One server serves the whole module (on a copy of examples/), with the Keras worker off;
the shapes test starts its own server with it on. Positions are 0-based, as in LSP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib

pytest.importorskip("pygls")

from graphspec.lsp.client import Client, LspError, uri

ROOT = Path(__file__).parent.parent
DOCS = "https://github.com/graphspec/graphspec/blob/main/docs/errors.md"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/ the tests may change on disk."""
    folder = tmp_path_factory.mktemp("workspace")
    for item in ROOT.joinpath("examples").iterdir():
        if item.suffix == ".yaml":
            shutil.copy(item, folder)
    shutil.copytree(ROOT / "examples" / "lib", folder / "lib")
    return folder


@pytest.fixture(scope="module")
def client(work: Path) -> Iterator[Client]:
    with Client(env=_env()) as client:
        client.initialize(work, {"shapes": False})
        yield client


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def pos(text: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
    """The (line, character) of the `nth` `needle` in `text`, plus `offset` characters."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index)
    return line, index - (text.rfind("\n", 0, index) + 1) + offset


def rng(line: int, start: int, end: int, end_line: int | None = None) -> dict:
    return {"start": {"line": line, "character": start}, "end": {"line": line if end_line is None else end_line, "character": end}}


def check(client: Client, path: Path, text: str) -> list[dict]:
    """Open `path` with `text` (or change it to `text` when open) and return its diagnostics."""
    if uri(path) in client.opened:
        client.change(path, text)
    else:
        client.open(path, text)
    return client.diagnostics(path)


def actions(client: Client, path: Path, diagnostic: dict) -> list[dict]:
    return client.request("textDocument/codeAction", {"textDocument": {"uri": uri(path)}, "range": diagnostic["range"], "context": {"diagnostics": [diagnostic]}})


def apply(text: str, edits: list[dict]) -> str:
    """`text` with LSP text edits applied (ASCII text: characters are UTF-16 units)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)

    def at(p: dict) -> int:
        return offsets[p["line"]] + p["character"]

    for edit in sorted(edits, key=lambda e: at(e["range"]["start"]), reverse=True):
        text = text[: at(edit["range"]["start"])] + edit["newText"] + text[at(edit["range"]["end"]):]
    return text


# -- the session ----------------------------------------------------------------------


def test_initialize_announces_every_feature(work: Path) -> None:
    with Client(env=_env()) as client:
        capabilities = client.initialize(work)["capabilities"]
    assert capabilities["hoverProvider"] is True
    assert capabilities["definitionProvider"] is True
    assert capabilities["referencesProvider"] is True
    assert capabilities["documentSymbolProvider"] is True
    assert capabilities["renameProvider"] == {"prepareProvider": True}
    assert capabilities["codeActionProvider"] == {"codeActionKinds": ["quickfix"]}
    assert set(capabilities["completionProvider"]["triggerCharacters"]) >= {"$", "[", " "}
    assert client.process.returncode == 0  # shutdown, then exit: a clean end


@pytest.mark.parametrize("name", sorted(p.name for p in ROOT.joinpath("examples").glob("*.yaml")) + ["lib/conv_blocks.yaml"])
def test_examples_have_no_diagnostics(client: Client, work: Path, name: str) -> None:
    path = work / name
    assert check(client, path, path.read_text()) == []
    client.close_document(path)


# -- diagnostics ----------------------------------------------------------------------


def test_unknown_type_at_its_range_with_code_link_and_fix(client: Client, work: Path) -> None:
    path = work / "toy_resnet.yaml"
    text = path.read_text()
    broken = text.replace("logits:  {type: Dense", "logits:  {type: Dens")
    (diagnostic,) = check(client, path, broken)
    assert diagnostic == {
        "range": rng(21, 18, 22),
        "message": "node 'logits': unknown layer type 'Dens'\ndid you mean 'Dense'? (a custom layer must be passed in custom_objects= or registered with Keras)",
        "severity": 1,
        "code": "GS501 unknown-type",
        "codeDescription": {"href": f"{DOCS}#layers-and-keras"},
        "source": "graphspec",
        "data": {"code": "unknown-type", "suggestions": ["Dense"]},
    }
    (fix,) = actions(client, path, diagnostic)
    assert fix["title"] == "Change 'Dens' to 'Dense'"
    assert fix["isPreferred"] is True
    assert fix["edit"]["changes"] == {uri(path): [{"range": rng(21, 18, 22), "newText": "Dense"}]}
    assert apply(broken, fix["edit"]["changes"][uri(path)]) == text
    # the change that fixes it clears the diagnostic
    assert check(client, path, text) == []
    client.close_document(path)


def test_unknown_argument_and_ref_with_their_fixes(client: Client, work: Path) -> None:
    path = work / "branch.yaml"
    text = path.read_text()
    broken = text.replace("units: 10,", "unit: 10,").replace("from: [h_2, z]", "from: [h_2, zz]")
    diagnostics = check(client, path, broken)
    assert [(d["range"], d["code"], d["message"]) for d in diagnostics] == [
        (rng(11, 40, 42), "GS201 unknown-ref", "node 'u': unknown ref 'zz'\ndid you mean 'z'?"),
        (rng(12, 21, 25), "GS502 unknown-argument", "node 'y': Dense has no argument 'unit'\ndid you mean 'units'?"),
    ]
    fixed = broken
    for diagnostic, title in zip(diagnostics, ["Change 'zz' to 'z'", "Change 'unit' to 'units'"], strict=True):
        (fix,) = actions(client, path, diagnostic)
        assert fix["title"] == title
        fixed = apply(fixed, fix["edit"]["changes"][uri(path)])
    assert fixed == text
    client.close_document(path)


def test_did_you_mean_inside_a_ref_with_an_output_and_an_expression(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    broken = text.replace("from: down1.out}", "from: down1.ot}").replace("$(base * 4)", "$(bse * 4)")
    diagnostics = check(client, path, broken)
    assert [(d["range"], d["code"]) for d in diagnostics] == [
        (rng(30, 52, 60), "GS203 unknown-output"),
        (rng(31, 40, 50), "GS301 unknown-param"),
    ]
    edits = [edit for d in diagnostics for edit in actions(client, path, d)[0]["edit"]["changes"][uri(path)]]
    assert edits == [{"range": rng(30, 58, 60), "newText": "out"}, {"range": rng(31, 42, 45), "newText": "base"}]
    assert apply(broken, edits) == text
    client.close_document(path)


def test_unused_nodes_and_inputs_are_warnings(client: Client, work: Path) -> None:
    path = work / "branch.yaml"
    text = path.read_text().replace("from: u}", "from: h_2}").replace("  x: {shape: [784]}", "  x: {shape: [784]}\n  w: {shape: [3]}")
    diagnostics = check(client, path, text)
    assert [(d["range"], d["severity"], d["code"], d["message"], d["tags"]) for d in diagnostics] == [
        (rng(7, 2, 3), 2, "GS208 unused-input", "input 'w' is not used by any output\nremove it; a model still demands every input it declares", [1]),
        (rng(11, 2, 3), 2, "GS206 unused-node", "node 'z' is not used by any output\nremove it, or list it under 'outputs'", [1]),
        (rng(12, 2, 3), 2, "GS206 unused-node", "node 'u' is not used by any output\nremove it, or list it under 'outputs'", [1]),
    ]
    client.close_document(path)


def test_yaml_syntax_error_then_fixed(client: Client, work: Path) -> None:
    path = work / "mlp.yaml"
    text = path.read_text()
    (diagnostic,) = check(client, path, text.replace("outputs: [y]", "outputs: [y"))
    assert diagnostic["code"] == "GS002 yaml-syntax"
    assert diagnostic["range"]["start"] == {"line": 14, "character": 9}  # where the '[' opened
    assert diagnostic["message"].startswith("YAML syntax error: the '[' opened here is not closed")
    assert check(client, path, text) == []
    client.close_document(path)


def test_rapid_changes_end_with_the_last_texts_diagnostics(client: Client, work: Path) -> None:
    path = work / "mlp.yaml"
    text = path.read_text()
    client.open(path, text)
    for units in range(20):  # faster than the debounce: only some are checked, the last one is
        client.change(path, text.replace("units: 10,", f"units: {units}x,"))
    (diagnostic,) = client.diagnostics(path)
    assert diagnostic["message"].startswith("node 'y': Dense: units must be an integer, found '19x'")
    assert diagnostic["range"] == rng(13, 28, 31)
    client.close_document(path)


def test_positions_are_utf16(client: Client, work: Path) -> None:
    path = work / "utf16.yaml"
    text = 'inputs: {x: {shape: [4]}}\nnodes:\n  y: {name_of_it: "\U0001f642", type: Dens, units: 2, from: x}\noutputs: [y]\n'
    diagnostics = check(client, path, text)
    # the emoji is one character but two UTF-16 units: 'Dens' is at code points 29-33, units 30-34
    assert [d["range"] for d in diagnostics if d["code"] == "GS501 unknown-type"] == [rng(2, 30, 34)]
    client.close_document(path)


def test_missing_block_param_fix_reuses_another_uses_value(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    broken = text.replace("{block: up, filters: $base, ", "{block: up, ")
    (diagnostic,) = check(client, path, broken)
    assert diagnostic["range"] == rng(33, 10, 46)
    assert diagnostic["code"] == "GS304 missing-param"
    (fix,) = actions(client, path, diagnostic)
    assert fix["title"] == "Add param 'filters: $(base * 2)' of block 'up'"
    assert fix["edit"]["changes"][uri(path)] == [{"range": rng(33, 20, 20), "newText": ", filters: $(base * 2)"}]
    client.close_document(path)


def test_missing_block_param_fix_in_block_style(client: Client, work: Path) -> None:
    path = work / "blockstyle.yaml"
    text = (
        "params: {filters: 8}\ninputs: {x: {shape: [4, 4, 3]}}\n"
        "blocks:\n  c:\n    params: {filters: null}\n    inputs: [x]\n    nodes: {y: {type: Conv2D, filters: $filters, kernel_size: 1, from: x}}\n    outputs: [y]\n"
        "nodes:\n  a:\n    block: c\n    from: x\noutputs: [a]\n"
    )
    (diagnostic,) = check(client, path, text)
    assert diagnostic["code"] == "GS304 missing-param"
    (fix,) = actions(client, path, diagnostic)
    assert fix["edit"]["changes"][uri(path)] == [{"range": rng(10, 0, 0), "newText": "    filters: $filters\n"}]
    assert check(client, path, apply(text, fix["edit"]["changes"][uri(path)])) == []
    client.close_document(path)


def test_gs207_fix_inserts_the_concatenate_merge(client: Client, work: Path) -> None:
    path = work / "branch.yaml"
    text = path.read_text()
    broken = text.replace("from: u}", "from: [h_2, z]}")
    diagnostics = check(client, path, broken)
    (diagnostic,) = [d for d in diagnostics if d["code"] == "GS207 too-many-inputs"]
    assert diagnostic["range"] == rng(12, 59, 67)
    (fix,) = actions(client, path, diagnostic)
    assert fix["title"] == "Concatenate [h_2, z] in a new node 'y_inputs' first"
    fixed = apply(broken, fix["edit"]["changes"][uri(path)])
    assert "  y_inputs: {merge: concatenate, from: [h_2, z]}\n  y:   {type: Dense, units: 10, activation: softmax, from: y_inputs}\n" in fixed
    assert [d["code"] for d in check(client, path, fixed)] == ["GS206 unused-node"]  # u is now unused
    client.close_document(path)


def test_problems_in_an_imported_library_are_shown_in_the_library(client: Client, work: Path) -> None:
    folder = work / "libcase"
    shutil.copytree(work / "lib", folder / "lib")
    spec = folder / "unet.yaml"
    shutil.copy(work / "unet.yaml", spec)
    library = folder / "lib" / "conv_blocks.yaml"
    good = library.read_text()
    library.write_text(good.replace("type: BatchNormalization", "type: BatchNormalizaton"))
    client.open(spec)
    params, _ = client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri(library) and p["diagnostics"])
    (diagnostic,) = params["diagnostics"]
    assert diagnostic["range"] == rng(13, 19, 36)
    assert diagnostic["message"].startswith("block 'conv_bn_relu', node 'bn': unknown layer type 'BatchNormalizaton'")
    assert "(in down1 > conv > first" in diagnostic["message"]
    # Fixing the library in the editor (unsaved) clears it: the spec is checked against the buffer.
    client.open(library, good)
    client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri(library) and p["diagnostics"] == [])
    client.close_document(library)
    client.close_document(spec)


def test_a_lone_library_is_checked_on_its_own(client: Client, work: Path) -> None:
    path = work / "lib" / "only_blocks.yaml"
    text = "blocks:\n  b:\n    inputs: [x]\n    nodes: {y: {type: Dense, units: 2, from: xx}}\n    outputs: [y]\n"
    (diagnostic,) = check(client, path, text)
    assert diagnostic["range"] == rng(3, 45, 47)
    assert diagnostic["message"] == "block 'b', node 'y': unknown ref 'xx'\ndid you mean 'x'?"
    client.close_document(path)


def test_other_yaml_gets_nothing(client: Client, work: Path) -> None:
    path = work / "ci.yaml"
    text = "on: [push]\njobs:\n  test: {runs-on: ubuntu-latest, steps: [{run: pytest}]}\n"
    assert check(client, path, text) == []
    assert client.at("textDocument/hover", path, 1, 2) is None
    assert client.at("textDocument/completion", path, 2, 4)["items"] == []
    client.close_document(path)


# -- hover ----------------------------------------------------------------------------


def _hover(client: Client, path: Path, text: str, needle: str, nth: int = 0, offset: int = 1) -> dict | None:
    return client.at("textDocument/hover", path, *pos(text, needle, nth, offset))


def test_hover_on_type_argument_ref_param_block_and_merge(client: Client, work: Path) -> None:
    path = work / "toy_resnet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    layer = _hover(client, path, text, "Conv2D")
    assert layer["range"] == rng(8, 18, 24)
    value = layer["contents"]["value"]
    assert value.startswith("**Conv2D** (keras.layers.Conv2D)\n\n2D convolution layer.\n\nArguments:\n")
    assert "- `filters` (int, required)\n" in value
    assert "- `padding` (str, default `valid`, one of `valid`, `same`)\n" in value
    argument = _hover(client, path, text, "padding")
    assert argument["contents"]["value"] == '**Conv2D.padding**: str\n\ndefault: `valid`  \nallowed: `valid`, `same` (any case)  \n  \nstring, either `"valid"` or `"same"` (case-insensitive).'
    ref = _hover(client, path, text, "from: conv_1", offset=8)
    assert ref == {"contents": {"kind": "markdown", "value": "**node conv_1**: Conv2D (filters: 32, kernel_size: 3, activation: relu)\n\nfrom: img"}, "range": rng(9, 79, 85)}
    assert _hover(client, path, text, "from: img", offset=7)["contents"]["value"] == "**input img**: shape [32, 32, 3]"
    assert _hover(client, path, text, "merge: add", offset=8)["contents"]["value"].startswith("**merge add**: keras.layers.Add\n\n")
    client.close_document(path)

    path = work / "unet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    assert _hover(client, path, text, "$(base * 2)", offset=3)["contents"]["value"] == "**param base** = `16`\n\ndefined at line 9"
    assert _hover(client, path, text, "{block: down", offset=9)["contents"]["value"] == "**block down**(x) -> skip, out\n\nParams:\n- `filters` (required)\n\nDefined in unet.yaml, line 14"
    imported = _hover(client, path, text, "block: double_conv", offset=9)
    assert imported["contents"]["value"] == "**block double_conv**(x) -> second\n\nParams:\n- `filters` (required)\n\nDefined in lib/conv_blocks.yaml, line 17"
    assert _hover(client, path, text, "filters: $base", nth=1)["contents"]["value"] == "**param filters** of block up: required (no default)\n\ndefined at line 22"
    assert _hover(client, path, text, "down1.skip", nth=1)["contents"]["value"].startswith("**node down1**: block down (filters: $base)")
    client.close_document(path)


# -- navigation -----------------------------------------------------------------------


def _locations(found: list[dict]) -> list[tuple[str, dict]]:
    return [(Path(f["uri"].removeprefix("file://")).name, f["range"]) for f in found]


def test_definition_of_refs_shares_outputs_expect_params_blocks_and_imports(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)

    def definition(needle: str, nth: int = 0, offset: int = 1) -> list[tuple[str, dict]]:
        return _locations(client.at("textDocument/definition", path, *pos(text, needle, nth, offset)))

    assert definition("from: down1.out", offset=7) == [("unet.yaml", rng(29, 2, 7))]  # a ref with '.k'
    assert definition("outputs: [mask]", offset=11) == [("unet.yaml", rng(34, 2, 6))]
    assert definition("from: image", offset=7) == [("unet.yaml", rng(11, 2, 7))]  # an input
    assert definition("from: [upsample, skip]", offset=18) == [("unet.yaml", rng(22, 16, 20))]  # a block input
    assert definition("$(base * 2)", offset=3) == [("unet.yaml", rng(8, 2, 6))]
    assert definition("$filters", offset=2) == [("unet.yaml", rng(14, 13, 20))]  # the block's own param
    assert definition("block: double_conv", offset=9) == [("conv_blocks.yaml", rng(16, 2, 13))]  # across imports
    assert definition("filters: $base", nth=1) == [("unet.yaml", rng(21, 13, 20))]  # a block node's argument
    assert definition("lib/conv_blocks.yaml]", offset=2) == [("conv_blocks.yaml", rng(0, 0, 0))]
    client.close_document(path)

    siamese = work / "siamese.yaml"
    text = siamese.read_text()
    client.open(siamese, text)
    client.diagnostics(siamese)
    found = client.at("textDocument/definition", siamese, *pos(text, "share: enc_left", 0, 9))
    assert _locations(found) == [("siamese.yaml", rng(23, 2, 10))]  # a share of a block node
    client.close_document(siamese)

    expect = work / "expect.yaml"
    text = "inputs: {x: {shape: [4]}}\nnodes: {y: {type: Dense, units: 2, from: x}}\noutputs: [y]\nexpect:\n  shapes: {y: [null, 2]}\n"
    client.open(expect, text)
    client.diagnostics(expect)
    assert _locations(client.at("textDocument/definition", expect, 4, 11)) == [("expect.yaml", rng(1, 8, 9))]
    client.close_document(expect)


def test_references_of_a_node(client: Client, work: Path) -> None:
    path = work / "toy_resnet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    with_definition = client.at("textDocument/references", path, *pos(text, "block_2:", 0, 1), context={"includeDeclaration": True})
    assert _locations(with_definition) == [("toy_resnet.yaml", rng(13, 2, 9)), ("toy_resnet.yaml", rng(14, 94, 101)), ("toy_resnet.yaml", rng(16, 39, 46))]
    uses = client.at("textDocument/references", path, *pos(text, "logits]", 0, 1), context={"includeDeclaration": False})
    assert _locations(uses) == [("toy_resnet.yaml", rng(22, 10, 16))]
    client.close_document(path)


def test_rename_node_param_and_block_across_imported_files(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    at = pos(text, "down1:", 0, 1)
    assert client.at("textDocument/prepareRename", path, *at) == {"range": rng(29, 2, 7), "placeholder": "down1"}
    node = client.at("textDocument/rename", path, *at, newName="enc1")["changes"]
    assert node == {uri(path): [{"range": r, "newText": "enc1"} for r in (rng(29, 2, 7), rng(30, 52, 57), rng(33, 50, 55))]}
    renamed = apply(text, node[uri(path)])
    assert "from: enc1.out}" in renamed and "[up2, enc1.skip]" in renamed

    param = apply(text, client.at("textDocument/rename", path, *pos(text, "base:", 0, 1), newName="width")["changes"][uri(path)])
    assert param.count("width") == 6 and "$base" not in param and "base *" not in param and "  width: 16" in param

    block = client.at("textDocument/rename", path, *pos(text, "block: double_conv", 0, 9), newName="two_convs")["changes"]
    library = work / "lib" / "conv_blocks.yaml"
    assert set(block) == {uri(path), uri(library)}
    new_spec = apply(text, block[uri(path)])
    assert new_spec.count("block: two_convs") == 3 and "block: double_conv" not in new_spec
    new_library = apply(library.read_text(), block[uri(library)])
    assert "  two_convs:" in new_library and "{block: two_convs, filters: 16, from: image}" in new_library
    assert "double_conv" not in new_library

    with pytest.raises(LspError, match="'down2' is already the name of another node or input there"):
        client.at("textDocument/rename", path, *at, newName="down2")
    with pytest.raises(LspError, match="'9x' is not a valid name"):
        client.at("textDocument/rename", path, *at, newName="9x")
    client.close_document(path)


def test_rename_block_param_updates_the_block_nodes_arguments(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    changes = client.at("textDocument/rename", path, *pos(text, "params: {filters: null}", 1, 10), newName="width")["changes"][uri(path)]
    renamed = apply(text, changes)
    assert "  up:\n    params: {width: null}" in renamed
    assert "filters: $width, kernel_size: 2" in renamed and "{block: double_conv, filters: $width, from: merged}" in renamed
    assert "{block: up, width: $(base * 2)," in renamed and "{block: up, width: $base," in renamed
    assert "{block: down, filters: $base" in renamed  # another block's param of the same name
    client.close_document(path)


def test_document_symbols_outline(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    client.open(path)
    client.diagnostics(path)
    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri(path)}})
    outline = {s["name"]: [c["name"] for c in s.get("children", [])] for s in symbols}
    assert outline == {
        "params": ["base", "classes"],
        "inputs": ["image"],
        "blocks": ["down", "up"],
        "nodes": ["down1", "down2", "bottom", "up2", "up1", "mask"],
        "outputs": ["mask"],
        "compile": [],
    }
    blocks = next(s for s in symbols if s["name"] == "blocks")
    assert [c["name"] for c in blocks["children"][1]["children"]] == ["upsample", "merged", "conv"]
    nodes = next(s for s in symbols if s["name"] == "nodes")
    assert nodes["children"][0] == {"name": "down1", "detail": "block: down", "kind": 12, "range": rng(29, 2, 52), "selectionRange": rng(29, 2, 7)}
    client.close_document(path)


# -- completion -----------------------------------------------------------------------


def _labels(client: Client, path: Path, line: int, character: int) -> list[str]:
    return [item["label"] for item in client.at("textDocument/completion", path, line, character)["items"]]


def test_completion_while_typing(client: Client, work: Path) -> None:
    path = work / "unet.yaml"
    text = path.read_text()
    client.open(path, text)
    client.diagnostics(path)
    # refs valid in 'from': earlier nodes and their block outputs, not the node itself or what reads it
    typing = text.replace("from: [up2, down1.skip]}", "from: [")
    client.change(path, typing)
    assert _labels(client, path, 33, len("  up1:    {block: up, filters: $base, from: [")) == ["image", "down1", "down1.skip", "down1.out", "down2", "down2.skip", "down2.out", "bottom", "up2"]
    # inside a block: its inputs and its own nodes
    line = pos(text, "from: [upsample, skip]")[0]
    assert _labels(client, path, line, pos(text, "from: [upsample, skip]", 0, 7)[1]) == ["x", "skip", "upsample"]
    # layer types with their summaries
    client.change(path, text.replace("{type: Conv2D, filters: $classes", "{type: Con"))
    items = client.at("textDocument/completion", path, 34, len("  mask:   {type: Con"))["items"]
    conv = next(i for i in items if i["label"] == "Conv2D")
    assert conv["detail"] == "keras.layers.Conv2D" and conv["documentation"]["value"] == "2D convolution layer."
    assert conv["textEdit"] == {"range": rng(34, 17, 20), "newText": "Conv2D"}
    # merges, blocks (own and imported), params after '$'
    client.change(path, text.replace("{merge: concatenate,", "{merge: ,"))
    assert _labels(client, path, 25, len("      merged:   {merge: ")) == ["concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot"]
    client.change(path, text.replace("bottom: {block: double_conv,", "bottom: {block: ,"))
    assert _labels(client, path, 31, len("  bottom: {block: ")) == ["down", "up", "conv_bn_relu", "double_conv"]
    client.change(path, text.replace("filters: $(base * 4)", "filters: $"))
    assert _labels(client, path, 31, len("  bottom: {block: double_conv, filters: $")) == ["base", "classes"]
    assert _labels(client, path, 17, pos(text, "$filters", 0, 1)[1]) == ["filters", "base", "classes"]
    # the chosen layer's arguments, and a block node's params
    client.change(path, text.replace("kernel_size: 1, activation", "kernel_size: 1, , activation"))
    arguments = _labels(client, path, 34, pos(text, "kernel_size: 1, ", 0, 16)[1])
    assert {"padding", "strides", "use_bias", "kernel_initializer"} <= set(arguments)
    assert "filters" not in arguments and "units" not in arguments
    client.change(path, text.replace("{block: up, filters: $base, from:", "{block: up, , from:"))
    assert _labels(client, path, 33, len("  up1:    {block: up, ")) == ["repeat", "filters"]
    client.close_document(path)


def test_completion_of_choices_keys_and_outputs(client: Client, work: Path) -> None:
    path = work / "toy_resnet.yaml"
    text = path.read_text()
    client.open(path, text.replace("padding: same, from: block_1}", "padding: , from: block_1}"))
    client.diagnostics(path)
    assert _labels(client, path, 11, pos(text, "padding: same", 0, 9)[1]) == ["valid", "same"]
    client.change(path, text.replace("outputs: [logits]", "outputs: [lo"))
    labels = _labels(client, path, 22, len("outputs: [lo"))
    assert labels[:2] == ["img", "conv_1"] and "logits" in labels
    client.change(path, text.replace("outputs: [logits]", "outputs: [logits]\nexp"))
    assert _labels(client, path, 23, 3) == ["params", "imports", "blocks", "expect"]
    client.close_document(path)


# -- shapes from Keras ----------------------------------------------------------------


@pytest.mark.slow
def test_hover_shows_output_shapes_and_parameter_counts_once_built(work: Path) -> None:
    path = work / "toy_resnet.yaml"
    text = path.read_text()
    with Client(env=_env()) as client:
        client.initialize(work)
        client.open(path, text)
        client.diagnostics(path)
        first = client.at("textDocument/hover", path, *pos(text, "conv_1:", 0, 1))["contents"]["value"]
        assert first.endswith("*shapes: building with Keras...*")  # answered at once, Keras or not
        client.wait_for("graphspec/shapes", lambda p: p["uri"] == uri(path), timeout=300)
        conv = client.at("textDocument/hover", path, *pos(text, "conv_1:", 0, 1))["contents"]["value"]
        assert conv == (
            "**node conv_1**: Conv2D (filters: 32, kernel_size: 3, activation: relu)\n\nfrom: img\n\n"
            "output shape `(None, 30, 30, 32)`, 896 params\n\nmodel: 223,242 params (223,242 trainable)"
        )
        merge = client.at("textDocument/hover", path, *pos(text, "from: block_2}", 0, 7))["contents"]["value"]
        assert merge.startswith("**node block_2**: merge add\n\nfrom: [conv_4, block_1]\n\noutput shape `(None, 9, 9, 64)`, 0 params\n\n")


# -- the command and the rules ----------------------------------------------------------


def test_lsp_command_without_pygls_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from graphspec import cli

    monkeypatch.setitem(sys.modules, "graphspec.lsp.server", None)  # import fails as without pygls
    err = io.StringIO()
    assert cli.main(["lsp"], err=err) == 2
    assert err.getvalue().startswith("graphspec lsp: error: the language server needs pygls and lsprotocol: pip install 'keras-graphspec[lsp]'")


SCRIPT = """
import os, sys
from graphspec.lsp import server, analysis, hover, completion, navigation
root = os.path.abspath("examples")
files = navigation.Files()
for name in ("unet.yaml", "toy_resnet.yaml"):
    path = os.path.join(root, name)
    text = open(path).read()
    analysis.check(path, text)
    hover.hover(files, path, 8, 4, None, root)
    completion.complete(text.splitlines(), 30, 50, files.get(path), {})
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "jax", "torch")))
"""


def test_the_server_imports_no_framework() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_lsp_extra_and_dev_extra_name_pygls() -> None:
    extras = tomllib.loads(ROOT.joinpath("pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {d.split(">")[0].split("=")[0] for d in extras["lsp"]} >= {"pygls", "lsprotocol"}
    # dev takes the lsp extra (by a self-reference), so CI installs what these tests need
    assert any(d.startswith("keras-graphspec[") and "lsp" in d.split("[")[1] for d in extras["dev"])


# -- editors --------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed (apt-get install neovim)")
def test_neovim_config_shows_diagnostics_and_hover(tmp_path: Path) -> None:
    spec = tmp_path / "mlp.yaml"
    spec.write_text(ROOT.joinpath("examples", "mlp.yaml").read_text().replace("type: Dense, units: 10", "type: Dens, units: 10"))
    out = tmp_path / "out.json"
    command = "lua vim.g.graphspec_cmd = {" + ", ".join(f"'{part}'" for part in (sys.executable, "-m", "graphspec", "lsp")) + "}"
    subprocess.run(
        ["nvim", "--headless", "--clean", "--cmd", command, "--cmd", f"luafile {ROOT / 'editors/neovim/graphspec.lua'}", "-c", f"luafile {ROOT / 'editors/neovim/check.lua'}", str(spec)],
        cwd=tmp_path, env={**_env(), "GRAPHSPEC_CHECK_OUT": str(out)}, timeout=120, check=True, capture_output=True,
    )
    result = json.loads(out.read_text())
    assert result["diagnostics"] == [
        {"lnum": 13, "col": 14, "end_col": 18, "severity": 1, "source": "graphspec",
         "message": "node 'y': unknown layer type 'Dens'\ndid you mean 'Dense'? (a custom layer must be passed in custom_objects= or registered with Keras)"}
    ]
    assert result["hover"] == "**Dens**: not a Keras class graphspec knows (a custom layer must be passed in custom_objects)"


def test_helix_and_vscode_settings_start_the_server() -> None:
    helix = tomllib.loads(ROOT.joinpath("editors", "helix", "languages.toml").read_text())
    assert helix["language-server"]["graphspec"] == {"command": "graphspec", "args": ["lsp"], "config": {"shapes": True}}
    assert helix["language"] == [{"name": "yaml", "language-servers": ["yaml-language-server", "graphspec"]}]
    package = json.loads(ROOT.joinpath("editors", "vscode", "package.json").read_text())
    assert package["main"] == "./extension.js" and ROOT.joinpath("editors", "vscode", "extension.js").exists()
    assert package["contributes"]["configuration"]["properties"]["graphspec.command"]["default"] == ["graphspec", "lsp"]
    assert package["activationEvents"] == ["onLanguage:yaml"]
    extension = ROOT.joinpath("editors", "vscode", "extension.js").read_text()
    assert "shapes: config.get(\"shapes\", true)" in extension and "debounceMs: config.get(\"debounceMs\", 25)" in extension

"""The language server: pygls over stdio, wiring editor requests to the modules that answer.

Diagnostics run `graphspec.loads` on a worker thread, debounced per file (a change
restarts the file's timer; one check runs at a time, and a change during a check queues
one more), so typing never waits for them. Shapes come from a Keras process started on
the first hover that wants them (`graphspec.lsp.shapes`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from graphspec import __version__
from graphspec.lsp import actions as fixes
from graphspec.lsp import analysis, completion, hover, navigation
from graphspec.lsp.document import Occurrence, Span, SpecText, looks_like_graphspec
from graphspec.lsp.shapes import ShapesClient

DEBOUNCE_SECONDS = 0.025  # a change waits this long for the next one before a check starts
SHAPES_NOTIFICATION = "graphspec/shapes"  # sent with {"uri"} when Keras's shapes of a file arrive

_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}
_SYMBOL_KIND = {
    "section": lsp.SymbolKind.Namespace,
    "input": lsp.SymbolKind.Variable,
    "node": lsp.SymbolKind.Function,
    "block": lsp.SymbolKind.Module,
    "output": lsp.SymbolKind.Field,
    "param": lsp.SymbolKind.Constant,
}
_COMPLETION_KIND = {
    "node": lsp.CompletionItemKind.Reference,
    "input": lsp.CompletionItemKind.Variable,
    "layer": lsp.CompletionItemKind.Class,
    "merge": lsp.CompletionItemKind.Operator,
    "block": lsp.CompletionItemKind.Module,
    "param": lsp.CompletionItemKind.Constant,
    "argument": lsp.CompletionItemKind.Property,
    "key": lsp.CompletionItemKind.Keyword,
    "value": lsp.CompletionItemKind.Value,
}

log = logging.getLogger("graphspec.lsp")


class GraphspecServer(LanguageServer):
    """The server's state: the files, the last check of each, the timers, the Keras worker."""

    def __init__(self) -> None:
        super().__init__("graphspec", __version__)
        self.files = navigation.Files()
        self.results: dict[str, analysis.Result] = {}  # real path of a checked file -> its result
        self.published: dict[str, str] = {}  # real path -> uri, of every file given diagnostics
        self.last_good: dict[str, SpecText] = {}  # real path -> the last text that parsed
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.running: set[str] = set()
        self.dirty: set[str] = set()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphspec-check")
        self.debounce = DEBOUNCE_SECONDS
        self.loop: asyncio.AbstractEventLoop | None = None
        self.shapes = ShapesClient(on_result=self._shapes_arrived)
        self.shapes_enabled = True

    # -- positions -------------------------------------------------------------------

    def lines(self, file: str) -> list[str]:
        text = self.files.get(file)
        return text.lines if text else []

    def to_client(self, file: str, span: Span) -> lsp.Range:
        """A span (code points) as an editor range (the negotiated units, UTF-16 by default)."""
        codec = self.workspace.position_codec
        return codec.range_to_client_units(self.lines(file), lsp.Range(lsp.Position(span.line, span.start), lsp.Position(span.line, span.end)))

    def from_client(self, file: str, position: lsp.Position) -> tuple[int, int]:
        found = self.workspace.position_codec.position_from_client_units(self.lines(file), position)
        return found.line, found.character

    # -- checking --------------------------------------------------------------------

    def opened(self, uri: str, text: str | None) -> str | None:
        """Record the editor's text of `uri` (None: closed); its path, or None for non-files."""
        file = to_fs_path(uri)
        if not file:
            return None
        parsed = self.files.set_open(file, text)
        analysis.set_buffer(file, text)
        if parsed is not None and text is not None:
            self.published[os.path.realpath(file)] = uri
        return file

    def schedule(self, file: str, delay: float) -> None:
        """Check `file` after `delay` seconds unless another change comes first; and every
        open file that imports it."""
        real = os.path.realpath(file)
        targets = [real] + [other for other, result in self.results.items() if real in result.read and other != real]
        loop = asyncio.get_running_loop()
        self.loop = loop
        for target in targets:
            handle = self.timers.pop(target, None)
            if handle is not None:
                handle.cancel()
            self.timers[target] = loop.call_later(delay, self._start, target)

    def _start(self, real: str) -> None:
        self.timers.pop(real, None)
        text = self.files.open.get(real)
        if text is None:
            return
        if real in self.running:
            self.dirty.add(real)
            return
        if not looks_like_graphspec(text.text):  # YAML of another kind: no diagnostics
            self.results[real] = analysis.Result(text.file)
            self.publish(text.file)
            return
        self.running.add(real)
        future = self.executor.submit(analysis.check, text.file, text.text, text)
        loop = self.loop
        assert loop is not None
        future.add_done_callback(lambda f: loop.call_soon_threadsafe(self._finished, real, text, f))

    def _finished(self, real: str, text: SpecText, future: Future[analysis.Result]) -> None:
        self.running.discard(real)
        try:
            result = future.result()
        except Exception as error:  # a bug here must not take the editor's diagnostics down
            log.exception("checking %s failed", real)
            result = analysis.Result(text.file, {text.file: [analysis.Finding(text.file, Span(0, 0, 0), "error", "internal", f"graphspec lsp: checking failed: {type(error).__name__}: {error}")]})
        if real in self.files.open and self.files.open[real] is text:
            before = set(self.results.get(real, analysis.Result("")).findings)
            self.results[real] = result
            for file in before | set(result.findings) | {text.file}:
                self.publish(file)
            if self.shapes.started and self.shapes_enabled and not any(f.severity == "error" for fs in result.findings.values() for f in fs):
                self.shapes.request(text.file, text.text, self._buffers())
        if real in self.dirty:
            self.dirty.discard(real)
            self._start(real)

    def findings(self, file: str) -> list[analysis.Finding]:
        """Every finding in `file`, from the check of each open file that reaches it."""
        real = os.path.realpath(file)
        seen: set[tuple[Any, ...]] = set()
        found = []
        for result in list(self.results.values()):
            for shown_file, items in result.findings.items():
                if os.path.realpath(shown_file) != real:
                    continue
                for finding in items:
                    key = (finding.span, finding.code, finding.message)
                    if key not in seen:
                        seen.add(key)
                        found.append(finding)
        return sorted(found, key=lambda f: (f.span.line, f.span.start, f.message))

    def publish(self, file: str) -> None:
        real = os.path.realpath(file)
        uri = self.published.get(real) or from_fs_path(file)
        if uri is None:
            return
        self.published.setdefault(real, uri)
        open_text = self.files.open.get(real)
        diagnostics = [self.diagnostic(file, f) for f in self.findings(file)]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=None if open_text is None else self._version(uri)))

    def _version(self, uri: str) -> int | None:
        try:
            return self.workspace.get_text_document(uri).version
        except Exception:
            return None

    def diagnostic(self, file: str, finding: analysis.Finding) -> lsp.Diagnostic:
        message = finding.message + (f"\n{finding.hint}" if finding.hint else "")
        number = finding.number
        return lsp.Diagnostic(
            range=self.to_client(file, finding.span),
            message=message,
            severity=_SEVERITY.get(finding.severity, lsp.DiagnosticSeverity.Error),
            code=f"{number} {finding.code}" if number else finding.code,
            code_description=lsp.CodeDescription(href=finding.docs),
            source="graphspec",
            data={"code": finding.code, "suggestions": finding.suggestions},
            tags=[lsp.DiagnosticTag.Unnecessary] if finding.code in ("unused-node", "unused-input") else None,
        )

    def _buffers(self) -> dict[str, str]:
        return {real: text.text for real, text in self.files.open.items()}

    def _shapes_arrived(self, file: str) -> None:
        uri = self.published.get(os.path.realpath(file)) or from_fs_path(file)
        if self.loop is not None and uri:
            self.loop.call_soon_threadsafe(self.protocol.notify, SHAPES_NOTIFICATION, {"uri": uri})

    def root(self) -> str | None:
        try:
            return self.workspace.root_path
        except Exception:
            return None


server = GraphspecServer()


def _path(uri: str) -> str:
    file = to_fs_path(uri)
    if not file:
        raise JsonRpcInvalidParams(f"graphspec lsp works on files; {uri} is not one")
    return file


def _spec_text(ls: GraphspecServer, file: str) -> SpecText | None:
    """The text of `file` if it is a spec or block library (other YAML gets no answers)."""
    text = ls.files.get(file)
    return text if text is not None and looks_like_graphspec(text.text) else None


@server.feature(lsp.INITIALIZE)
def initialize(ls: GraphspecServer, params: lsp.InitializeParams) -> None:
    options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
    if isinstance(options.get("debounceMs"), (int, float)):
        ls.debounce = max(float(options["debounceMs"]), 0.0) / 1000
    if options.get("shapes") is False:
        ls.shapes_enabled = False
    roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
    if not roots and params.root_uri:
        roots = [to_fs_path(params.root_uri)]
    ls.files.roots = [r for r in roots if r]


@server.feature(lsp.SHUTDOWN)
def shutdown(ls: GraphspecServer, *args: Any) -> None:
    ls.shapes.close()
    ls.executor.shutdown(wait=False, cancel_futures=True)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: GraphspecServer, params: lsp.DidOpenTextDocumentParams) -> None:
    file = ls.opened(params.text_document.uri, params.text_document.text)
    if file:
        ls.schedule(file, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: GraphspecServer, params: lsp.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    file = ls.opened(uri, ls.workspace.get_text_document(uri).source)
    if file:
        ls.schedule(file, ls.debounce)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: GraphspecServer, params: lsp.DidSaveTextDocumentParams) -> None:
    file = to_fs_path(params.text_document.uri)
    if file:
        ls.schedule(file, 0)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GraphspecServer, params: lsp.DidCloseTextDocumentParams) -> None:
    file = ls.opened(params.text_document.uri, None)
    if not file:
        return
    real = os.path.realpath(file)
    result = ls.results.pop(real, None)
    for other in (set(result.findings) if result else set()) | {file}:
        ls.publish(other)
    for other, found in list(ls.results.items()):  # its importers now read it from disk
        if real in found.read and other in ls.files.open:
            ls.schedule(ls.files.open[other].file, 0)


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def on_hover(ls: GraphspecServer, params: lsp.HoverParams) -> lsp.Hover | None:
    file = _path(params.text_document.uri)
    line, column = ls.from_client(file, params.position)
    text = _spec_text(ls, file)
    if text is None:
        return None
    shapes = None
    pending = False
    occurrence = navigation.at(ls.files, file, line, column)
    if ls.shapes_enabled and occurrence is not None and occurrence.symbol.kind == "node":
        ls.loop = ls.loop or asyncio.get_running_loop()
        home = ls.files.get(occurrence.symbol.file) or text
        spec_file, spec_text = _spec_for(ls, home)
        ls.shapes.request(spec_file, spec_text, ls._buffers())
        answer, current = ls.shapes.get(spec_file, spec_text)
        shapes = hover.Shapes(answer, current) if answer is not None else None
        pending = ls.shapes.pending(spec_file)
    found = hover.hover(ls.files, file, line, column, shapes, ls.root(), pending)
    if found is None:
        return None
    token = text.token_at(line, column)
    span = occurrence.span if occurrence else token[2] if token else None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=found), range=ls.to_client(file, span) if span else None)


def _spec_for(ls: GraphspecServer, text: SpecText) -> tuple[str, str]:
    """The spec whose build gives the shapes of `text`'s nodes: itself, or for a library the
    open spec that imports it."""
    real = os.path.realpath(text.file)
    for other, result in ls.results.items():
        if real in result.read and other in ls.files.open:
            return ls.files.open[other].file, ls.files.open[other].text
    return text.file, text.text


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: GraphspecServer, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
    file, occurrence = _cursor(ls, params)
    if occurrence is None:
        return None
    locations = []
    for target, span in navigation.definitions(ls.files, file, occurrence):
        where = ls.to_client(target, span) if span else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
        locations.append(lsp.Location(uri=_uri(ls, target), range=where))
    return locations or None


def _cursor(ls: GraphspecServer, params: Any) -> tuple[str, Occurrence | None]:
    """The file of a position request, and the name under its cursor."""
    file = _path(params.text_document.uri)
    if _spec_text(ls, file) is None:
        return file, None
    line, column = ls.from_client(file, params.position)
    return file, navigation.at(ls.files, file, line, column)


def _uri(ls: GraphspecServer, file: str) -> str:
    return ls.published.get(os.path.realpath(file)) or from_fs_path(file) or file


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: GraphspecServer, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
    file, occurrence = _cursor(ls, params)
    if occurrence is None:
        return None
    found = navigation.references(ls.files, file, occurrence.symbol)
    return [
        lsp.Location(uri=_uri(ls, item.file), range=ls.to_client(item.file, item.occurrence.span))
        for item in found
        if params.context.include_declaration or not item.occurrence.definition
    ]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: GraphspecServer, params: lsp.PrepareRenameParams) -> lsp.PrepareRenamePlaceholder | None:
    file, occurrence = _cursor(ls, params)
    if occurrence is None or occurrence.symbol.kind == "file":
        return None
    return lsp.PrepareRenamePlaceholder(range=ls.to_client(file, occurrence.span), placeholder=occurrence.symbol.name)


@server.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
def rename(ls: GraphspecServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    file, occurrence = _cursor(ls, params)
    if occurrence is None:
        return None
    problem = navigation.rename_check(ls.files, file, occurrence, params.new_name)
    if problem:
        raise JsonRpcInvalidParams(problem)
    changes: dict[str, list[lsp.TextEdit]] = {}
    for item in navigation.references(ls.files, file, occurrence.symbol):
        changes.setdefault(_uri(ls, item.file), []).append(lsp.TextEdit(range=ls.to_client(item.file, item.occurrence.span), new_text=params.new_name))
    return lsp.WorkspaceEdit(changes=changes)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: GraphspecServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    file = _path(params.text_document.uri)
    text = _spec_text(ls, file)
    if text is None:
        return []
    text = _parsed(ls, text) or text

    def convert(item: navigation.Outline) -> lsp.DocumentSymbol:
        selection = ls.to_client(file, item.selection)
        end_text = text.line(item.end_line)
        whole = lsp.Range(selection.start, lsp.Position(item.end_line, len(end_text.encode("utf-16-le")) // 2))
        return lsp.DocumentSymbol(
            name=item.name,
            detail=item.detail or None,
            kind=_SYMBOL_KIND[item.kind],
            range=whole,
            selection_range=selection,
            children=[convert(child) for child in item.children] or None,
        )

    return [convert(item) for item in navigation.outline(text)]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" ", "$", "[", ",", "{", "."]))
def complete(ls: GraphspecServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    file = _path(params.text_document.uri)
    line, column = ls.from_client(file, params.position)
    current = _spec_text(ls, file)
    if current is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    good = _parsed(ls, current, line)
    blocks: dict[str, tuple[SpecText | None, Any]] = {}
    if good is not None:
        own = good.data.get("blocks")
        for name in (own if isinstance(own, dict) else {}):
            blocks[str(name)] = (good, ("blocks", name))
        for _, resolved, _ in good.imports():
            for name, (where, path) in ls.files.blocks(resolved).items():
                blocks.setdefault(name, (ls.files.get(where), path))
    items = completion.complete(current.lines, line, column, good, blocks)
    word = completion.context(current.lines, line, column).word
    start = ls.to_client(file, Span(line, column - len(word), column))
    result = []
    for index, item in enumerate(items):
        result.append(
            lsp.CompletionItem(
                label=item.label,
                kind=_COMPLETION_KIND.get(item.kind),
                detail=item.detail or None,
                documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=item.documentation) if item.documentation else None,
                sort_text=f"{index:05d}",
                filter_text=item.label,
                text_edit=lsp.TextEdit(range=start, new_text=item.insert or item.label),
            )
        )
    return lsp.CompletionList(is_incomplete=False, items=result)


def _parsed(ls: GraphspecServer, current: SpecText, line: int | None = None) -> SpecText | None:
    """The text to take names from: `current` if it parses; else `current` without the line
    being typed (`line`); else the last text of the file that parsed."""
    real = os.path.realpath(current.file)
    if current.ok:
        ls.last_good[real] = current
        return current
    if line is not None:
        lines = current.text.split("\n")
        if 0 <= line < len(lines):
            without = SpecText(current.file, "\n".join(lines[:line] + [""] + lines[line + 1 :]))
            if without.ok:
                return without
    return ls.last_good.get(real)


@server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
def code_action(ls: GraphspecServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    file = _path(params.text_document.uri)
    text = _spec_text(ls, file)
    if text is None:
        return []
    start = ls.from_client(file, params.range.start)
    end = ls.from_client(file, params.range.end)
    uri = params.text_document.uri
    found = []
    for finding in ls.findings(file):
        span = finding.span
        if (span.line, span.end) < start or (span.line, span.start) > end:
            continue
        for action in fixes.actions(text, finding):
            edits = [lsp.TextEdit(range=ls.to_client(file, edit.span), new_text=edit.text) for edit in action.edits]
            found.append(
                lsp.CodeAction(
                    title=action.title,
                    kind=lsp.CodeActionKind.QuickFix,
                    diagnostics=[ls.diagnostic(file, finding)],
                    edit=lsp.WorkspaceEdit(changes={uri: edits}),
                    is_preferred=action.preferred or None,
                )
            )
    return found


def main() -> int:
    """Serve over stdin and stdout until the editor says exit."""
    logging.basicConfig(level=logging.WARNING, format="graphspec lsp: %(message)s")
    server.start_io()
    return 0

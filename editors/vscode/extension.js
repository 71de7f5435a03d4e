// The graphspec extension: starts `graphspec lsp` for YAML files; the server answers only
// for graphspec specs and block libraries (files with a top-level graphspec, inputs,
// nodes, outputs or blocks key), so other YAML is left to other extensions.
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("graphspec");
  const [command, ...args] = config.get("command", ["graphspec", "lsp"]);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient(
    "graphspec",
    "graphspec",
    { run: server, debug: server },
    {
      documentSelector: [{ scheme: "file", language: "yaml" }],
      initializationOptions: {
        shapes: config.get("shapes", true),
        debounceMs: config.get("debounceMs", 25),
      },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

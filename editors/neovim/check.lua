-- A headless check of editors/neovim/graphspec.lua (tests/test_lsp.py runs it):
--   nvim --headless --clean --cmd "luafile editors/neovim/graphspec.lua" \
--        -c "luafile editors/neovim/check.lua" SPEC.yaml
-- waits for the server's diagnostics, asks for a hover at the first one, and writes both
-- as JSON to $GRAPHSPEC_CHECK_OUT.
local found = vim.wait(30000, function()
  return #vim.diagnostic.get(0) > 0
end, 50)
local diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(diagnostics, { lnum = d.lnum, col = d.col, end_col = d.end_col, message = d.message, severity = d.severity, source = d.source })
end
local hover = nil
if found then
  local first = vim.diagnostic.get(0)[1]
  local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = first.lnum, character = first.col } }
  local answers = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 10000) or {}
  for _, answer in pairs(answers) do
    if answer.result then
      hover = answer.result.contents.value
    end
  end
end
local out = io.open(os.getenv("GRAPHSPEC_CHECK_OUT"), "w")
out:write(vim.fn.json_encode({ version = vim.version(), diagnostics = diagnostics, hover = hover }))
out:close()
vim.cmd("qa!")

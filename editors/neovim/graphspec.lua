-- graphspec's language server in Neovim: put this file in ~/.config/nvim/plugin/ (or
-- `luafile` it from init.lua). It starts `graphspec lsp` for YAML buffers; the server
-- answers only for graphspec specs and block libraries, so other YAML is left alone.
--
-- Neovim 0.8 and later: vim.lsp.start, which reuses one server per root directory.
-- Neovim 0.7: vim.lsp.start_client and buf_attach_client, one server for the session.
-- Set vim.g.graphspec_cmd to change the command, e.g.
--   vim.g.graphspec_cmd = { "/path/to/venv/bin/python", "-m", "graphspec", "lsp" }

local client_id = nil

local function root_dir(buffer)
  local name = vim.api.nvim_buf_get_name(buffer)
  if vim.fs and vim.fs.find then
    local marker = vim.fs.find({ ".git", "pyproject.toml" }, { upward = true, path = vim.fs.dirname(name) })[1]
    if marker then
      return vim.fs.dirname(marker)
    end
  end
  return vim.fn.getcwd()
end

local function start(args)
  local config = {
    name = "graphspec",
    cmd = vim.g.graphspec_cmd or { "graphspec", "lsp" },
    root_dir = root_dir(args.buf),
    init_options = { shapes = true },
  }
  if vim.lsp.start then
    vim.lsp.start(config)
  else
    client_id = client_id or vim.lsp.start_client(config)
    if client_id then
      vim.lsp.buf_attach_client(args.buf, client_id)
    end
  end
end

vim.api.nvim_create_autocmd("FileType", { pattern = "yaml", callback = start })

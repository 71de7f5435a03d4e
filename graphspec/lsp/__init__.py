"""`graphspec lsp`: a Language Server Protocol server for spec files.

The server (`graphspec.lsp.server`, built on pygls) needs the ``[lsp]`` extra; the
modules that read specs (`document`, `analysis`) need only graphspec itself. Keras is
imported by the shapes worker alone (`graphspec.lsp.shapes`), a separate process.
"""

#!/usr/bin/env bash
# How docs/lsp-neovim.png was made: Neovim in tmux on a broken copy of
# examples/toy_resnet.yaml (logits 'type: Dens', conv_6 'from: conv_55'), a hover on
# 'kernel_size' of conv_1, the pane captured with its colours (tmux capture-pane -p -e),
# turned into HTML by aha, rendered by wkhtmltoimage and cropped and reduced to 64 colours by Pillow.
# Needs: apt-get install neovim tmux aha wkhtmltopdf; Pillow; keras-graphspec[lsp] in PYTHON.
# Usage, from the project root: editors/neovim/screenshot.sh [PYTHON]
set -euo pipefail
root=$(pwd)
python=${1:-python}
work=$(mktemp -d)
sed -e 's/logits:  {type: Dense/logits:  {type: Dens/' -e 's/from: conv_5}/from: conv_55}/' \
  examples/toy_resnet.yaml > "$work/toy_resnet.yaml"
cat > "$work/init.lua" <<LUA
vim.g.graphspec_cmd = { "$python", "-m", "graphspec", "lsp" }
vim.o.number = true
LUA
cd "$work"
tmux new-session -d -s graphspec-shot -x 150 -y 29 \
  "PYTHONPATH=$root nvim --clean --cmd 'luafile init.lua' --cmd 'luafile $root/editors/neovim/graphspec.lua' toy_resnet.yaml"
sleep 4                                   # the server starts and publishes diagnostics
tmux send-keys -t graphspec-shot ':9' Enter '/kernel_size' Enter ':noh' Enter
sleep 0.5
tmux send-keys -t graphspec-shot ':lua vim.lsp.buf.hover()' Enter
sleep 2
tmux capture-pane -t graphspec-shot -p -e > screen.ansi
tmux kill-session -t graphspec-shot
aha --black --title "graphspec lsp in Neovim" < screen.ansi \
  | sed 's#<pre>#<pre style="font-family: DejaVu Sans Mono, monospace; font-size: 13px; line-height: 1.2; margin: 8px">#' > screen.html
QT_QPA_PLATFORM=offscreen wkhtmltoimage --quiet --width 1180 --format png screen.html screen.png
"$python" -c "
from PIL import Image
image = Image.open('screen.png').convert('RGB')
image.crop((0, 0, image.width, min(image.height, 460))).quantize(colors=64, method=Image.Quantize.MEDIANCUT).save('$root/docs/lsp-neovim.png', optimize=True)
"
cat screen.ansi | sed 's/\x1b\[[0-9;]*m//g' > "$root/docs/lsp-neovim.txt"
echo "wrote docs/lsp-neovim.png and docs/lsp-neovim.txt"

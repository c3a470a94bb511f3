#!/usr/bin/env bash
# Rebuilds assets/fonts/NanumGothic-subset.ttf: NanumGothic (SIL Open Font License 1.1, Debian package
# fonts-nanum) cut down to the 2,350 common Hangul syllables of KS X 1001, the Hangul compatibility jamo, and every
# other character the Korean catalogs use. egui's own fonts keep drawing Latin; this one fills in Hangul.
# The OFL reserves the name "NanumGothic" for unmodified fonts, so the subset is renamed "Tcpcraft Hangul".
# Usage: ./scripts/subset-font.sh   (installs fonts-nanum and python3-fonttools when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/fonts/truetype/nanum/NanumGothic.ttf
if [ ! -f "$src" ] || ! command -v pyftsubset >/dev/null; then
  apt-get update -q && apt-get install -y -q fonts-nanum python3-fonttools
fi
chars=$(mktemp)
python3 - "$chars" <<'PY'
import sys, glob
text = set()
for hi in range(0xB0, 0xC9):            # KS X 1001 Hangul rows: the 2,350 common syllables
    for lo in range(0xA1, 0xFF):
        try:
            text.add(bytes([hi, lo]).decode("euc-kr"))
        except UnicodeDecodeError:
            pass
text.update(chr(c) for c in range(0x3131, 0x318F))   # compatibility jamo (ㄱ, ㅏ …)
for f in glob.glob("assets/i18n/ko/*.ron") + glob.glob("presets/**/*.ron", recursive=True):
    text.update(c for c in open(f, encoding="utf-8").read() if ord(c) > 0x7F)
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(text)))
print(f"{len(text)} characters", file=sys.stderr)
PY
out=assets/fonts/TcpcraftHangul.ttf
pyftsubset "$src" --text-file="$chars" --output-file="$out" --layout-features='*' --no-hinting --desubroutinize
rm -f "$chars"
python3 - "$out" <<'PY'
import sys
from fontTools.ttLib import TTFont
f = TTFont(sys.argv[1])
names = {1: "Tcpcraft Hangul", 3: "Tcpcraft Hangul subset of NanumGothic", 4: "Tcpcraft Hangul",
         6: "TcpcraftHangul", 16: "Tcpcraft Hangul", 17: "Regular"}
for rec in list(f["name"].names):
    if rec.nameID in names:
        f["name"].setName(names[rec.nameID], rec.nameID, rec.platformID, rec.platEncID, rec.langID)
f.save(sys.argv[1])
PY
sed -n '/^License: OFL-1.1/,/^Files:/p' /usr/share/doc/fonts-nanum/copyright | sed '1d;$d' | sed 's/^ //; s/^\.$//' \
  > assets/fonts/OFL.txt
ls -l "$out" assets/fonts/OFL.txt

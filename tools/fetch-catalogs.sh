#!/usr/bin/env bash
# The recipe of the bundled teacher's extra data (issue 15): human UI translations en→pt_BR and en→zh_CN from
# the gettext catalogs of Debian packages, imported with `bitdistill corpus import` (accelerators stripped,
# filtered, split by a hash of the source).
#
#   tools/fetch-catalogs.sh OUT              apt-get download the packages below, dpkg -x them, import
#   tools/fetch-catalogs.sh --from ROOT OUT  import the catalogs already extracted under ROOT
#
# Writes OUT/{pt,zh}/{train,dev,test}.jsonl, OUT/{pt,zh}/catalogs.txt (every catalog used) and, when it
# downloads, OUT/packages.txt (every package and version used). $BITDISTILL names the binary (default:
# bitdistill on PATH).
set -euo pipefail

# Applications' own catalogs; LibreOffice's UI alone has about 28,000 messages per language.
PACKAGES=(libreoffice-l10n-pt-br libreoffice-l10n-zh-cn vlc-l10n gimp-data inkscape audacity-data
          filezilla-common thunar-data mousepad xfce4-panel)
# GNOME's own applications are kept out of training, for an independent check of the teacher.
EXCLUDED='^(evince|gedit|nautilus|totem|gnome-.*|org\.gnome\..*)\.mo$'

bitdistill=${BITDISTILL:-bitdistill}
if [[ ${1:-} == --from ]]; then
  root=$2; out=$3
else
  out=${1:?usage: tools/fetch-catalogs.sh OUT | --from ROOT OUT}
  root="$out/root"
  mkdir -p "$out/debs" "$root"
  : > "$out/packages.txt"
  for package in "${PACKAGES[@]}"; do
    if (cd "$out/debs" && apt-get download -q "$package" >/dev/null 2>&1); then
      deb=$(ls -t "$out"/debs/"${package}"_*.deb | head -1)
      dpkg -x "$deb" "$root"
      dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >> "$out/packages.txt"
    else
      echo "warning: $package could not be downloaded (run apt-get update?); left out" >&2
    fi
  done
fi

for pair in pt_BR:pt zh_CN:zh; do
  locale=${pair%%:*}; lang=${pair##*:}
  files=()
  while IFS= read -r file; do
    [[ $(basename "$file") =~ $EXCLUDED ]] || files+=("$file")
  done < <(find "$root" -path "*/$locale/LC_MESSAGES/*.mo" | sort)
  if (( ${#files[@]} == 0 )); then
    echo "error: no $locale catalogs under $root" >&2
    exit 1
  fi
  mkdir -p "$out/$lang"
  printf '%s\n' "${files[@]#"$root"/}" > "$out/$lang/catalogs.txt"
  "$bitdistill" corpus import "${files[@]}" --target-lang "$lang" --out "$out/$lang"
done

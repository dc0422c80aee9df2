#!/usr/bin/env bash
# Rejects includes that point up the layer stack (STYLE R1). Layers, bottom to top:
#   src/common < kernels < src/ring < src/ckks < bootstrap < packing < models < src/cli
# A file may include headers from its own layer or a lower one. Tests may include anything.
set -euo pipefail
cd "$(dirname "$0")/.."
rank() {
    case "$1" in
        src/common/*) echo 0 ;; kernels/*) echo 1 ;; src/ring/*) echo 2 ;; src/ckks/*) echo 3 ;;
        bootstrap/*) echo 4 ;; packing/*) echo 5 ;; models/*) echo 6 ;; src/cli/*) echo 7 ;;
        src/hekv.h) echo 8 ;;
        *) echo -1 ;;
    esac
}
bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h' 'kernels/*' 'bootstrap/*' 'packing/*' 'models/*.c' 'models/*.h' 2>/dev/null; git ls-files --others --exclude-standard 'src/*.[ch]' 'kernels/*.[ch]' 'bootstrap/*.[ch]' 'packing/*.[ch]' 'models/*.[ch]'); do
    case "$f" in *.c|*.h) ;; *) continue ;; esac
    [ -f "$f" ] || continue
    from=$(rank "$f")
    dir=$(dirname "$f")
    while IFS= read -r inc; do
        target=$(realpath -m --relative-to=. "$dir/$inc")
        to=$(rank "$target")
        if [ "$to" -gt "$from" ]; then
            echo "layering: $f includes $inc ($target is a higher layer)"
            bad=1
        fi
    done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
done
[ $bad = 0 ] && echo "layers: ok"
exit $bad

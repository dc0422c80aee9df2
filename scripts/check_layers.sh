#!/usr/bin/env bash
# The layering rules of DESIGN.md, enforced on every #include "..." of the tree (make lint,
# run by make test):
#   1. includes point down the layer stack (STYLE R1). Layers, bottom to top:
#        kernels < src/base < src/ring < src/ckks < bootstrap < packing < models
#        < src/session < src/cli
#      A public header in src/include/hekv/ sits in the layer it exports.
#   2. kernels/ stand alone: they include nothing outside kernels/.
#   3. an *_int.h is included only from its own folder (and that folder's tests, test/X,
#      and the fuzz corpus generator, which writes keys in full as well as seeded);
#      src/ckks/ckks_ext.h, the CKKS layer's one extension header, only from src/ckks,
#      bootstrap, packing and models (and their tests).
#   4. server code (bootstrap, packing, models, and src/session files named *server*)
#      never includes hekv/ckks_client.h: it cannot name the secret-key type (STYLE R17).
#   5. includes are rooted ("src/ring/ring.h", "hekv/ckks.h", or a file of the same
#      folder): no "../".
set -euo pipefail
cd "$(dirname "$0")/.."

rank() {
    case "$1" in
        kernels/*) echo 0 ;;
        src/base/* | src/include/hekv/base.h) echo 1 ;;
        src/ring/*) echo 2 ;;
        src/ckks/* | src/include/hekv/ckks.h | src/include/hekv/ckks_client.h) echo 3 ;;
        bootstrap/* | src/include/hekv/boot.h) echo 4 ;;
        packing/* | src/include/hekv/pack.h) echo 5 ;;
        models/* | src/include/hekv/llama.h | src/include/hekv/llama_*.h) echo 6 ;;
        src/session/* | src/include/hekv/session.h) echo 7 ;;
        src/cli/*) echo 8 ;;
        src/include/hekv/hekv.h) echo 9 ;;
        *) echo -1 ;;
    esac
}

# The file an include names: the including file's folder first, then the top, then the
# public include folder (the compiler's -I. -Isrc/include).
resolve() {
    local dir=$1 inc=$2
    if [ -f "$dir/$inc" ]; then realpath -m --relative-to=. "$dir/$inc"
    elif [ -f "$inc" ]; then echo "$inc"
    elif [ -f "src/include/$inc" ]; then echo "src/include/$inc"
    else echo "$inc"
    fi
}

bad=0
complain() {
    echo "layering: $1"
    bad=1
}

files=$( (git ls-files; git ls-files --others --exclude-standard) | sort -u |
    grep -E '^(kernels|src|bootstrap|packing|models|test)/.*\.(c|h|cpp)$' || true)
for f in $files; do
    [ -f "$f" ] || continue
    dir=$(dirname "$f")
    from=$(rank "$f")
    is_test=0
    case "$f" in test/*) is_test=1 ;; esac
    while IFS= read -r inc; do
        case "$inc" in
            *../*) complain "$f includes \"$inc\": use a rooted path (no ../)" ;;
        esac
        target=$(resolve "$dir" "$inc")
        to=$(rank "$target")
        tdir=$(dirname "$target")
        if [ "$is_test" = 0 ] && [ "$from" -ge 0 ] && [ "$to" -gt "$from" ]; then
            complain "$f includes $inc ($target is a higher layer)"
        fi
        if [ "$from" = 0 ] && [ "${target#kernels/}" = "$target" ]; then
            case "$inc" in
                *.h) [ -f "$target" ] && complain "$f (kernels) includes $target from outside kernels/" ;;
            esac
        fi
        case "$target" in
            *_int.h)
                own=$tdir
                [ "$dir" = "$own" ] || [ "$dir" = "test/${own##*/}" ] ||
                    [ "$f" = test/fuzz/corpus_gen.c ] ||
                    complain "$f includes $target, internal to $own/"
                ;;
            src/ckks/ckks_ext.h)
                case "$dir" in
                    src/ckks | bootstrap | packing | models | test/ckks | test/bootstrap | \
                        test/packing | test/models) ;;
                    *) complain "$f includes the CKKS extension header (only bootstrap, packing, models)" ;;
                esac
                ;;
            src/include/hekv/ckks_client.h)
                case "$f" in
                    bootstrap/* | packing/* | models/* | src/session/*server*)
                        complain "$f is server code and includes hekv/ckks_client.h" ;;
                esac
                ;;
        esac
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
[ $bad = 0 ] && echo "layers: ok"
exit $bad

#!/usr/bin/env bash
# check-src.sh - house rules the compiler does not check (STYLE.md 3.1, 3.5, 3.6, 3.12):
# banned calls, raw allocation, typedef struct, header guards, module dependency order,
# line length. Prints every violation; exits 1 if any.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
say() { echo "check-src: $*"; bad=1; }

banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|strncpy|malloc|calloc|realloc|free|alloca)[[:space:]]*\('
while IFS= read -r hit; do
  say "banned call: $hit"
done < <(grep -nE "$banned" src --include='*.c' --include='*.h' -r | grep -v 'src/base/mem.c' \
         | grep -vE '(cq_|PQ|sqlite3_|json_|yaml_)[a-z_]*free[[:space:]]*\(' \
         | grep -vE '\b[a-z_]+_(malloc|free|calloc|realloc)\(' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)')

while IFS= read -r hit; do say "typedef struct: $hit"; done < <(grep -rn 'typedef struct' src)

for h in $(find src -name '*.h'); do
  rel=${h#src/}
  guard="CQ_$(echo "${rel%.h}" | tr '/a-z' '_A-Z')_H"
  grep -q "#ifndef $guard" "$h" || say "$h: header guard should be $guard"
done

# Module order: base <- conf <- drv <- alert <- cli. A lower module never includes a higher one.
declare -A allowed=([base]="base" [conf]="base conf" [drv]="base conf drv"
                   [dsl]="base conf drv dsl" [alert]="base conf drv dsl alert"
                   [http]="base conf drv dsl alert http"
                   [cli]="base conf drv dsl alert http cli")
for mod in "${!allowed[@]}"; do
  [ -d "src/$mod" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(echo "$line" | sed -E 's/.*#include "([a-z]+)\/.*/\1/')
    case " ${allowed[$mod]} " in *" $inc "*) ;; *) say "$file includes $inc/ (module $mod may use: ${allowed[$mod]})" ;; esac
  done < <(grep -rnE '#include "[a-z]+/' "src/$mod")
done

while IFS= read -r hit; do say "line over 100 columns: $hit"; done < \
  <(awk 'length > 100 { print FILENAME ":" FNR }' $(find src -name '*.[ch]'))

[ $bad -eq 0 ] && echo "check-src: ok"
exit $bad

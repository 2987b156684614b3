#!/usr/bin/env bash
# Every counterexample in `steadfast check` output ends by naming the
# property it violates: after its `--- MODEL [CONFIG] PROPERTY:
# counterexample …` header, the numbered steps end with the line
# `⇒ violated: PROPERTY (…)`. Reads the output from a file or stdin; exits
# non-zero if a counterexample does not, or if there is none to look at
# while the output says some result was violated.
#
#   steadfast check --profile ci | tee out.txt; scripts/counterexamples-named.sh out.txt
set -euo pipefail
awk '
    /^--- .*: counterexample/ {
        if (open) { print "no verdict line after: " header; bad++ }
        header = $0
        property = $0
        sub(/^--- [^]]*\] /, "", property)
        sub(/: counterexample.*/, "", property)
        open = 1; seen++; last = ""
        next
    }
    open && /^  / { last = $0; next }
    open {
        if (index(last, "  ⇒ violated: " property) != 1) {
            print "the last line of \"" header "\" is not the verdict: " last; bad++
        } else { named++ }
        open = 0
    }
    /VIOLATED/ { violated++ }
    END {
        if (open) {
            if (index(last, "  ⇒ violated: " property) != 1) { print "unterminated: " header; bad++ }
            else { named++ }
        }
        if (violated > 0 && seen == 0) { print "violations reported but no counterexample printed"; bad++ }
        printf "counterexamples: %d, each ending with its violated property: %d\n", seen, named
        exit bad > 0
    }
' "${1:--}"

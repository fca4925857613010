#!/usr/bin/env bash
# Every in-guest test defined in tests/guest/*.c must run: compares the
# number of TEST() definitions on disk (TEST_EXPLICIT ones run only when
# named) with the [ RUN  ] lines of each full-suite console log given.
# A test file left out of the Makefile's SRCS, or a harness that stops
# early, fails here rather than passing with fewer tests.
#
#   check-suite-size.sh LOG...     prints [ PASS ]/[ FAIL ] per log and
#                                  "N passed, N failed"
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
defined=$(cat "$top"/tests/guest/*.c | grep -cE '^TEST\(')
passed=0 failed=0

for log in "$@"; do
    name=$(basename "$log" .log)
    ran=$(tr -d '\r' < "$log" 2>/dev/null | grep -cE '^\[ RUN  \] ')
    if [ "$ran" -eq "$defined" ]; then
        echo "[ PASS ] suite.all_${defined}_tests_ran_in_$name"
        passed=$((passed + 1))
    else
        echo "[ FAIL ] suite.all_tests_ran_in_$name: $ran ran, $defined defined in tests/guest/*.c"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]

# Counts the result lines of a console or a step's output that printed no
# "N passed, N failed" summary (it crashed, or was cut off):
#
#   awk -f tests/count-results.awk FILE     prints "PASSED FAILED SKIPPED"
#
# "[ PASS ] name", "[ FAIL ] name..." and "[ SKIP ] name..." count as
# such; a "[ RUN  ] name" that no result line of that name follows (the
# test the run died in) counts as failed.  tests/run-all.sh and
# tests/xl/run-domu.sh count a run without a summary this way, and
# tests/junit.py turns the same lines into testcases, so the two agree;
# tests/test_junit.py checks that they do.

{ sub(/\r+$/, "") }

/^\[ RUN  \] [^ \t]/ {
    running[$4]++
    next
}

/^\[ (PASS|FAIL|SKIP) \] [^ \t]/ {
    name = $4
    sub(/:$/, "", name)
    if ( $2 == "PASS" )
        passed++
    else if ( $2 == "FAIL" )
        failed++
    else
        skipped++
    if ( running[name] > 0 )
        running[name]--
}

END {
    for ( name in running )
        failed += running[name]
    printf "%d %d %d\n", passed, failed, skipped
}

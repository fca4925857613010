/*
 * Runs every registered host test; prints "[ PASS ]"/"[ FAIL ]" lines and
 * the closing "N passed, N failed" line; exits 1 if anything failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "host_test.h"

static struct host_test *head, **tail = &head;
static int current_failed;

void host_test_register(struct host_test *t)
{
    *tail = t;              /* keep registration (source) order */
    tail = &t->next;
}

void host_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("    %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    current_failed = 1;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    unsigned int passed = 0, failed = 0;
    struct host_test *t;

    for ( t = head; t; t = t->next )
    {
        if ( only && !strstr(t->name, only) )
            continue;
        current_failed = 0;
        t->fn();
        printf("[ %s ] host.%s\n", current_failed ? "FAIL" : "PASS", t->name);
        if ( current_failed )
            failed++;
        else
            passed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}

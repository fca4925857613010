/*
 * Glob matching for test selection (tests=GLOB): '*' matches any run of
 * characters, '?' any one character, everything else itself.  Iterative,
 * with one backtrack point, so no recursion depth to worry about.
 */
#include <pvmm/lib.h>

bool glob_match(const char *pattern, const char *str)
{
    const char *star = NULL, *resume = NULL;

    while ( *str )
    {
        if ( *pattern == '*' )
        {
            star = pattern++;
            resume = str;
        }
        else if ( *pattern == '?' || *pattern == *str )
        {
            pattern++;
            str++;
        }
        else if ( star )
        {
            /* Let the last '*' swallow one more character and retry. */
            pattern = star + 1;
            str = ++resume;
        }
        else
            return false;
    }
    while ( *pattern == '*' )
        pattern++;
    return *pattern == '\0';
}

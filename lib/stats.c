/*
 * Median and spread of a handful of repetitions.  The median, not the
 * mean: one repetition interrupted by the host (QEMU, TCG translation)
 * must not move the figure.  For an even count, the lower middle value.
 */
#include <pvmm/stats.h>

struct summary summarise(uint64_t *v, unsigned int n)
{
    unsigned int i, j;
    uint64_t x;

    for ( i = 1; i < n; i++ )           /* insertion sort: n is small */
    {
        x = v[i];
        for ( j = i; j > 0 && v[j - 1] > x; j-- )
            v[j] = v[j - 1];
        v[j] = x;
    }
    return (struct summary){ v[(n - 1) / 2], v[0], v[n - 1] };
}

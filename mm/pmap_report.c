/*
 * The text of PMAP's exhaustion panic, kept apart from mm/pmap.c so that
 * the host tests can check it: running out of slots cannot be survived
 * in the guest.
 */
#include <pvmm/pmap.h>
#include <pvmm/printk.h>

size_t pmap_describe_full(char *buf, size_t size,
                          const struct pmap_slot *s, unsigned int nr)
{
    size_t n = snprintf(buf, size, "PMAP: all %u slots in use:", nr);
    unsigned int i;

    for ( i = 0; i < nr; i++ )
        n += snprintf(buf + MIN(n, size), size - MIN(n, size),
                      "%s slot %u mfn %#lx (%s)", i ? "," : "", i,
                      mfn_x(s[i].mfn), s[i].holder ? s[i].holder : "?");
    return n;
}

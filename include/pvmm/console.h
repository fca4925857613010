/*
 * The kernel's console: Xen's console_io hypercall as dom0, the shared PV
 * console ring (drained by xenconsoled in dom0) as a domU.
 */
#ifndef PVMM_CONSOLE_H
#define PVMM_CONSOLE_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

/* How long a full ring may stall before output is counted as lost. */
#define CONS_RING_WAIT_NS   (5UL * 1000 * 1000 * 1000)

struct cons_stats {
    bool ring;                  /* writing to the PV ring (domU)? */
    uint64_t bytes_written;     /* accepted by Xen or placed in the ring */
    uint64_t bytes_lost;        /* dropped: hypercall error or ring stall */
    uint64_t write_errors;      /* failed console_io calls */
    long last_error;            /* last console_io or evtchn error */
};

/* Picks the backend from start_info; maps the ring for a domU. */
void cons_init(const start_info_t *si);
/*
 * After a resume (docs/suspend.md): the ring stays where it is mapped
 * (the page keeps its pfn; the tools re-point the mapping), but a new
 * domain has a new event channel, from the start_info the tools wrote.
 */
void cons_resume(const start_info_t *si);

/* Writes len bytes; each '\n' goes out as "\r\n". */
void cons_write(const char *s, size_t len);

/*
 * Waits until the consumer has taken everything written (ring only).
 * Returns 0, or -XEN_ETIMEDOUT after timeout_ns.
 */
int cons_flush(uint64_t timeout_ns);

const struct cons_stats *cons_get_stats(void);

/* The ring as the consumer sees it (NULL as dom0); for tests. */
const struct xencons_interface *cons_ring(void);

#endif /* PVMM_CONSOLE_H */

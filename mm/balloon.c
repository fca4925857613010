/*
 * The balloon: frames back to Xen (XENMEM_decrease_reservation) and from
 * it (XENMEM_populate_physmap), BALLOON_BATCH at a time.
 *
 * Release, for each batch:
 *   1. unmap every kernel alias of the frames (one mmu_update batch, one
 *      TLB flush): nothing may reach a frame once Xen has it back;
 *   2. mark the pfns missing in the p2m;
 *   3. give the mfns to Xen.  Xen takes them in order and says how many:
 *      the rest are put back exactly as they were (p2m, aliases, free).
 * Populate, for each batch:
 *   1. Xen writes an mfn into each slot it fills, in order, and sets the
 *      M2P itself;
 *   2. record them with p2m_set (which may grow the p2m and give a chunk
 *      private pages), map them where the direct map reaches, and free
 *      those in the allocator's range into it.
 * A shortfall is reported with the numbers and the reservation, never
 * hidden, and leaves every structure consistent (the p2m auditor checks).
 *
 * Any vCPU may balloon, and two at once: each has its own batch (the
 * extent list Xen reads and writes, and its pfns); what they share, the
 * p2m and the allocator, has its own locks, and the counts are atomic.
 * A caller owns the pfns it names: two vCPUs never release or populate
 * the same pfn at once.
 */
#include <pvmm/balloon.h>
#include <pvmm/frame.h>
#include <pvmm/p2m_boot.h>
#include <pvmm/pt.h>
#include <pvmm/multicall.h>
#include <pvmm/hypercall.h>
#include <pvmm/memory.h>
#include <pvmm/printk.h>
#include <pvmm/panic.h>
#include <pvmm/smp.h>

static struct balloon_stats stats;

struct balloon_batch {
    xen_pfn_t frames[BALLOON_BATCH];        /* the extent list Xen reads/writes */
    pfn_t pfns[BALLOON_BATCH];
};

static struct balloon_batch batches[SMP_MAX_VCPUS];

static struct balloon_batch *my_batch(void)
{
    return &batches[smp_vcpu_id()];
}

static void count(unsigned long *counter, unsigned long n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

const struct balloon_stats *balloon_get_stats(void)
{
    return &stats;
}

/* Every reservation hypercall the balloon makes, counted. */
static long reservation_op(unsigned int cmd, unsigned long n)
{
    struct balloon_batch *b = my_batch();

    count(&stats.hypercalls, 1);
    return xen_reservation_op(cmd, b->frames, n);
}

static void print_reservation(void)
{
    domid_t self = DOMID_SELF;

    printk("balloon: reservation: %ld pages now, maximum %ld\n",
           HYPERVISOR_memory_op(XENMEM_current_reservation, &self),
           HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self));
}

/* Maps (ALIAS_RW) or unmaps (ALIAS_NONE) the kernel aliases of n pfns. */
static int set_aliases(const pfn_t *pfns, unsigned long n,
                       enum alias_mode mode)
{
    unsigned long i;
    int rc = 0;

    for ( i = 0; i < n && !rc; i++ )
        rc = pt_set_aliases(pfns[i], mode);
    return rc ? rc : mc_flush();
}

/* Puts frames [from, n) of a failed release back as they were. */
static void release_undo(const pfn_t *pfns, unsigned long from,
                         unsigned long n, bool to_allocator)
{
    struct balloon_batch *b = my_batch();
    unsigned long i;

    for ( i = from; i < n; i++ )
        if ( p2m_set(pfns[i], b->frames[i]) )
            panic("balloon: cannot restore pfn %#lx -> mfn %#lx",
                  pfn_x(pfns[i]), b->frames[i]);
    if ( set_aliases(pfns + from, n - from, ALIAS_RW) )
        panic("balloon: cannot remap pfns after a short release");
    if ( to_allocator )
        for ( i = from; i < n; i++ )
            frame_free(pfns[i]);
}

static int release_batch(const pfn_t *pfns, unsigned long n,
                         bool from_allocator, unsigned long *done)
{
    struct balloon_batch *b = my_batch();
    unsigned long i;
    long ret;
    int rc;

    *done = 0;
    for ( i = 0; i < n; i++ )
        b->frames[i] = mfn_x(pfn_to_mfn(pfns[i]));
    if ( (rc = set_aliases(pfns, n, ALIAS_NONE)) != 0 )
    {
        release_undo(pfns, 0, n, from_allocator);
        return rc;
    }
    for ( i = 0; i < n; i++ )
        if ( (rc = p2m_set(pfns[i], p2m_unpopulated_entry(pfns[i]))) != 0 )
            panic("balloon: cannot mark pfn %#lx unpopulated: %d",
                  pfn_x(pfns[i]), rc);

    ret = reservation_op(XENMEM_decrease_reservation, n);
    *done = ret < 0 ? 0 : (unsigned long)ret;
    count(&stats.released, *done);
    if ( *done == n )
        return 0;
    count(&stats.short_calls, 1);
    printk("balloon: Xen took %lu of %lu frames (rc %ld)\n", *done, n, ret);
    release_undo(pfns, *done, n, from_allocator);
    return ret < 0 ? (int)ret : -XEN_EBUSY;
}

int balloon_release(unsigned long n, pfn_t *pfns, unsigned long *done)
{
    struct balloon_batch *b = my_batch();
    unsigned long k, got, d, i;
    int rc = 0;

    for ( *done = 0; *done < n && !rc; *done += d )
    {
        k = MIN(n - *done, BALLOON_BATCH);
        for ( got = 0; got < k; got++ )
        {
            b->pfns[got] = frame_alloc();
            if ( pfn_eq(b->pfns[got], INVALID_PFN) )
                break;
        }
        rc = release_batch(b->pfns, got, true, &d);
        for ( i = 0; pfns && i < d; i++ )
            pfns[*done + i] = b->pfns[i];
        if ( !rc && got < k )
        {
            printk("balloon: only %lu of the %lu frames asked for were "
                   "free\n", *done + d, n);
            rc = -XEN_ENOMEM;
        }
    }
    p2m_trim();
    return rc;
}

int balloon_release_pfns(const pfn_t *pfns, unsigned long n,
                         unsigned long *done)
{
    unsigned long k, d;
    int rc = 0;

    for ( *done = 0; *done < n && !rc; *done += d )
    {
        k = MIN(n - *done, BALLOON_BATCH);
        for ( d = 0; d < k; d++ )
            if ( !p2m_is_populated(pfns[*done + d]) )
            {
                printk("balloon: pfn %#lx has no frame to release\n",
                       pfn_x(pfns[*done + d]));
                return -XEN_EINVAL;
            }
        rc = release_batch(pfns + *done, k, false, &d);
    }
    p2m_trim();
    return rc;
}

/* Gives one frame Xen just populated straight back (p2m_set failed). */
static void populate_undo(unsigned long i)
{
    struct balloon_batch *b = my_batch();

    b->frames[0] = b->frames[i];
    if ( reservation_op(XENMEM_decrease_reservation, 1) != 1 )
        panic("balloon: cannot give back mfn %#lx", b->frames[i]);
}

/*
 * Takes back the first n frames of a batch that could not be mapped: no
 * alias, no p2m entry, and the frames go back to Xen.  Only a refusal
 * while undoing is beyond repair.
 */
static void populate_unrecord(unsigned long n)
{
    struct balloon_batch *b = my_batch();
    unsigned long i;

    if ( set_aliases(b->pfns, n, ALIAS_NONE) )
        panic("balloon: cannot unmap %lu frames that failed to map", n);
    for ( i = 0; i < n; i++ )
    {
        if ( p2m_set(b->pfns[i], p2m_unpopulated_entry(b->pfns[i])) )
            panic("balloon: cannot mark pfn %#lx unpopulated again",
                  pfn_x(b->pfns[i]));
        populate_undo(i);
    }
}

/*
 * Records Xen's frames for the batch's pfns[0, n) in the p2m and maps them;
 * returns how many are now usable, in order.  Frames that cannot be
 * recorded, or a batch whose aliases cannot be mapped, go back to Xen:
 * a frame is either populated and mapped, or not ours at all.
 */
static unsigned long populate_record(unsigned long n, int *rc)
{
    struct balloon_batch *b = my_batch();
    unsigned long i, j;

    *rc = 0;
    for ( i = 0; i < n && !*rc; i++ )
        *rc = p2m_set(b->pfns[i], b->frames[i]);
    if ( *rc )
        i--;                        /* pfns[i] was not recorded */
    for ( j = i; j < n; j++ )
        populate_undo(j);
    if ( !*rc && (*rc = set_aliases(b->pfns, i, ALIAS_RW)) != 0 )
    {
        printk("balloon: cannot map %lu populated frames: %d\n", i, *rc);
        populate_unrecord(i);
        return 0;
    }
    for ( j = 0; j < i; j++ )
        if ( pfn_x(b->pfns[j]) < frame_total() )
            frame_free(b->pfns[j]);
    return i;
}

static int populate_batch(unsigned long n, unsigned long *done)
{
    struct balloon_batch *b = my_batch();
    unsigned long i;
    long ret;
    int rc = 0;

    for ( i = 0; i < n; i++ )
    {
        if ( pfn_x(b->pfns[i]) >= P2M_MAX_PFNS ||
             p2m_is_populated(b->pfns[i]) )
        {
            printk("balloon: cannot populate pfn %#lx: %s\n",
                   pfn_x(b->pfns[i]),
                   p2m_is_populated(b->pfns[i]) ? "it has a frame"
                                                   : "beyond the p2m");
            *done = 0;
            return -XEN_EINVAL;
        }
        b->frames[i] = pfn_x(b->pfns[i]);
    }
    ret = reservation_op(XENMEM_populate_physmap, n);
    *done = populate_record(ret < 0 ? 0 : (unsigned long)ret, &rc);
    count(&stats.populated, *done);
    if ( *done == n )
        return rc;
    count(&stats.short_calls, 1);
    printk("balloon: Xen populated %lu of %lu frames (rc %ld)\n",
           ret < 0 ? 0 : ret, n, ret);
    print_reservation();
    return rc ? rc : ret < 0 ? (int)ret : -XEN_ENOMEM;
}

int balloon_populate(pfn_t first, unsigned long n, unsigned long *done)
{
    struct balloon_batch *b = my_batch();
    unsigned long k, i, d;
    int rc = 0;

    for ( *done = 0; *done < n && !rc; *done += d )
    {
        k = MIN(n - *done, BALLOON_BATCH);
        for ( i = 0; i < k; i++ )
            b->pfns[i] = _pfn(pfn_x(first) + *done + i);
        rc = populate_batch(k, &d);
    }
    return rc;
}

int balloon_populate_list(const pfn_t *pfns, unsigned long n,
                          unsigned long *done)
{
    struct balloon_batch *b = my_batch();
    unsigned long k, i, d;
    int rc = 0;

    for ( *done = 0; *done < n && !rc; *done += d )
    {
        k = MIN(n - *done, BALLOON_BATCH);
        for ( i = 0; i < k; i++ )
            b->pfns[i] = pfns[*done + i];
        rc = populate_batch(k, &d);
    }
    return rc;
}

/*
 * The multicall batch.
 *
 * Structure: entries[] are the multicall slots handed to Xen; the arrays
 * that mmu_update and mmuext_op entries point at live in arena[].  An
 * entry's array is always the last thing in the arena while the entry is
 * the last entry, so mc_extend() can grow it in place: that is how a run
 * of PTE writes becomes one mmu_update carrying many requests.
 *
 * Invariants:
 *  - nr_entries <= MC_MAX_ENTRIES, arena_used <= MC_ARENA_BYTES;
 *  - for an array entry i, meta[i].count is the number of elements and
 *    meta[i].done receives Xen's success count;
 *  - queueing never fails for lack of space: a full batch is issued
 *    first.  If that issue fails, the new request is not queued and the
 *    caller gets the earlier batch's error, so a nonzero return always
 *    means "not queued", never "queued, but something failed".
 *
 * Fault injection (pvmm/inject.h): a request picked to fail is "doomed"
 * when queued; at issue its entry is handed to Xen cut short before it
 * (an update_va_mapping or a whole doomed entry becomes an empty
 * mmu_update), and the entry then reports the injected error.  What Xen
 * reports done is thus really done, exactly as when Xen stops at a bad
 * request itself, and the error is checked by the same code as a real one.
 *
 * Who calls it: mm/ (pagetables, PMAP, balloon), on any vCPU: each vCPU
 * has its own batch (struct mc_cpu), so none needs a lock.
 */
#include <pvmm/multicall.h>
#include <pvmm/hypercall.h>
#include <pvmm/inject.h>
#include <pvmm/printk.h>
#include <pvmm/lib.h>
#include <pvmm/smp.h>

struct entry_meta {
    unsigned int count;         /* elements in the entry's array */
    unsigned int done;          /* success count written by Xen */
    unsigned int first_op;      /* queue-order index of element 0 */
    bool doomed;                /* fault injection: refuse an element */
    unsigned int doom_at;       /* ... this one (0 for a non-array op) */
    long doom_rc;               /* ... with this error */
};

struct mc_batch {
    multicall_entry_t entries[MC_MAX_ENTRIES];
    struct entry_meta meta[MC_MAX_ENTRIES];
    unsigned int nr_entries;
    unsigned int nr_ops;
    uint8_t arena[MC_ARENA_BYTES] __aligned(16);
    size_t arena_used;
    bool tlb_flush_wanted;
    struct {
        void (*fn)(void *);
        void *arg;
    } callbacks[MC_MAX_CALLBACKS];
    unsigned int nr_callbacks;
};

/*
 * Each vCPU queues into its own batch, so two vCPUs changing pagetables
 * at once never issue each other's half-built work; the counts and the
 * last error are per vCPU for the same reason.
 */
struct mc_cpu {
    struct mc_batch batch;
    struct mc_stats stats;
    struct mc_error last_error;
};

static struct mc_cpu mc_cpus[SMP_MAX_VCPUS];
static bool unbatched;

static struct mc_cpu *this_cpu(void)
{
    return &mc_cpus[smp_vcpu_id()];
}

static struct mc_batch *my_batch(void)
{
    return &this_cpu()->batch;
}

static int flush_batch(bool final);

void mc_set_unbatched(bool on)
{
    unbatched = on;
}

/* In unbatched mode each operation goes out as soon as it is queued. */
static int maybe_issue_now(int rc)
{
    return (!rc && unbatched) ? flush_batch(false) : rc;
}

static const char *hypercall_name(unsigned int op)
{
    switch ( op )
    {
    case __HYPERVISOR_mmu_update: return "mmu_update";
    case __HYPERVISOR_mmuext_op: return "mmuext_op";
    case __HYPERVISOR_update_va_mapping: return "update_va_mapping";
    default: return "hypercall";
    }
}

static bool array_op(unsigned int op)
{
    return op == __HYPERVISOR_mmu_update || op == __HYPERVISOR_mmuext_op;
}

/*
 * Grows the last entry's array by one element if it is the same op and
 * its array ends the arena; returns the new element or NULL.
 */
static void *mc_extend(unsigned int op, size_t size)
{
    struct mc_batch *b = my_batch();
    multicall_entry_t *e;
    struct entry_meta *m;
    void *slot;

    if ( !b->nr_entries || unbatched )
        return NULL;
    e = &b->entries[b->nr_entries - 1];
    m = &b->meta[b->nr_entries - 1];
    if ( e->op != op ||
         (uint8_t *)e->args[0] + m->count * size !=
         b->arena + b->arena_used ||
         b->arena_used + size > MC_ARENA_BYTES )
        return NULL;
    slot = b->arena + b->arena_used;
    b->arena_used += size;
    e->args[1] = ++m->count;
    b->nr_ops++;
    return slot;
}


/*
 * Makes sure an entry and size bytes of arena are free.  Issuing a full
 * batch early is not the end of the caller's batch, so a requested TLB
 * flush stays pending for the final mc_flush().
 */
static int make_room(size_t size)
{
    struct mc_batch *b = my_batch();

    if ( b->nr_entries < MC_MAX_ENTRIES &&
         b->arena_used + size <= MC_ARENA_BYTES )
        return 0;
    return flush_batch(false);
}

static multicall_entry_t *new_entry(unsigned int op)
{
    struct mc_batch *b = my_batch();
    unsigned int i = b->nr_entries++;
    multicall_entry_t *e = &b->entries[i];

    memset(e, 0, sizeof(*e));
    e->op = op;
    b->meta[i] = (struct entry_meta){ .first_op = b->nr_ops };
    b->nr_ops++;
    return e;
}

/*
 * Queues one element of an array op; returns where to write it, or NULL
 * with *rc set if the full batch issued to make room failed.
 */
static void *queue_array_op(unsigned int op, size_t size, int *rc)
{
    struct mc_batch *b = my_batch();
    multicall_entry_t *e;
    void *slot = mc_extend(op, size);

    *rc = 0;
    if ( slot )
        return slot;
    if ( (*rc = make_room(size)) != 0 )
        return NULL;
    e = new_entry(op);
    slot = b->arena + b->arena_used;
    b->arena_used += size;
    b->meta[b->nr_entries - 1].count = 1;
    e->args[0] = (unsigned long)slot;
    e->args[1] = 1;
    e->args[2] = (unsigned long)&b->meta[b->nr_entries - 1].done;
    e->args[3] = DOMID_SELF;
    return slot;
}

/*
 * Fault injection: dooms the element just queued in the last entry if the
 * Nth call of kind is due.  The first doomed element of an entry wins:
 * Xen would not have got past it.
 */
static void maybe_doom_last(enum inject_kind kind)
{
    struct mc_batch *b = my_batch();
    unsigned int i = b->nr_entries - 1;
    struct entry_meta *m = &b->meta[i];
    long rc;

    if ( !inject_fire(kind, &rc) || m->doomed )
        return;
    m->doomed = true;
    m->doom_at = array_op(b->entries[i].op) ? m->count - 1 : 0;
    m->doom_rc = rc == INJECT_DEFAULT ? -XEN_EINVAL : rc;
}

int mc_mmu_update(uint64_t ptr, uint64_t val)
{
    struct mc_cpu *c = this_cpu();
    int rc;
    mmu_update_t *req = queue_array_op(__HYPERVISOR_mmu_update,
                                       sizeof(*req), &rc);

    if ( !req )
        return rc;
    req->ptr = ptr;
    req->val = val;
    c->stats.mmu_ops++;
    maybe_doom_last(INJECT_MMU_UPDATE);
    return maybe_issue_now(rc);
}

int mc_mmuext(const struct mmuext_op *op)
{
    struct mc_cpu *c = this_cpu();
    int rc;
    struct mmuext_op *slot = queue_array_op(__HYPERVISOR_mmuext_op,
                                            sizeof(*slot), &rc);

    if ( !slot )
        return rc;
    *slot = *op;
    c->stats.mmu_ops++;
    maybe_doom_last(INJECT_MMUEXT_OP);
    if ( op->cmd == MMUEXT_TLB_FLUSH_LOCAL || op->cmd == MMUEXT_TLB_FLUSH_ALL )
        c->stats.tlb_flushes++;
    else if ( op->cmd == MMUEXT_INVLPG_LOCAL || op->cmd == MMUEXT_INVLPG_ALL )
        c->stats.invlpgs++;
    return maybe_issue_now(rc);
}

int mc_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
    struct mc_cpu *c = this_cpu();
    int rc = make_room(0);
    multicall_entry_t *e;

    if ( rc )
        return rc;
    e = new_entry(__HYPERVISOR_update_va_mapping);
    e->args[0] = va;
    e->args[1] = pte;
    e->args[2] = flags;
    c->stats.mmu_ops++;
    maybe_doom_last(INJECT_UPDATE_VA_MAPPING);
    if ( (flags & UVMF_FLUSHTYPE_MASK) == UVMF_TLB_FLUSH )
        c->stats.tlb_flushes++;
    else if ( (flags & UVMF_FLUSHTYPE_MASK) == UVMF_INVLPG )
        c->stats.invlpgs++;
    return maybe_issue_now(rc);
}

int mc_update_va_mapping_now(unsigned long va, uint64_t pte,
                             unsigned long flags)
{
    struct mc_cpu *c = this_cpu();
    long rc;

    c->stats.mmu_ops++;
    if ( inject_fire(INJECT_UPDATE_VA_MAPPING, &rc) )
        rc = rc == INJECT_DEFAULT ? -XEN_EINVAL : rc;
    else
    {
        c->stats.hypercalls++;
        rc = HYPERVISOR_update_va_mapping(va, pte, flags);
    }
    if ( rc )
        printk("multicall: update_va_mapping of %#lx, issued alone, "
               "failed: %ld\n", va, rc);
    return (int)rc;
}

void mc_request_tlb_flush(void)
{
    struct mc_batch *b = my_batch();

    b->tlb_flush_wanted = true;
}

int mc_callback(void (*fn)(void *arg), void *arg)
{
    struct mc_batch *b = my_batch();
    int rc;

    /* No room left: issue, which runs the registered ones. */
    if ( b->nr_callbacks == MC_MAX_CALLBACKS && (rc = mc_flush()) != 0 )
        return rc;
    b->callbacks[b->nr_callbacks].fn = fn;
    b->callbacks[b->nr_callbacks].arg = arg;
    b->nr_callbacks++;
    return 0;
}

unsigned int mc_pending(void)
{
    struct mc_batch *b = my_batch();

    return b->nr_ops;
}

/* Cuts doomed entries short of their doomed element (see the top). */
static void cut_doomed_entries(void)
{
    struct mc_batch *b = my_batch();
    unsigned int i;

    for ( i = 0; i < b->nr_entries; i++ )
    {
        multicall_entry_t *e = &b->entries[i];
        struct entry_meta *m = &b->meta[i];
        long rc;

        if ( !m->doomed && inject_fire(INJECT_MC_ENTRY, &rc) )
            *m = (struct entry_meta){
                .count = m->count, .first_op = m->first_op, .doomed = true,
                .doom_rc = rc == INJECT_DEFAULT ? -XEN_EINVAL : rc,
            };
        if ( !m->doomed )
            continue;
        if ( array_op(e->op) )
        {
            e->args[1] = m->doom_at;
            continue;
        }
        /* Not made at all: an empty mmu_update stands in for it. */
        e->args[0] = 0;
        e->args[1] = 0;
        e->args[2] = 0;
        e->args[3] = DOMID_SELF;
        e->op = __HYPERVISOR_mmu_update;
    }
}

/* After the issue: the doomed entries report the injected error. */
static void report_doomed_entries(unsigned int *ops)
{
    struct mc_batch *b = my_batch();
    unsigned int i;

    for ( i = 0; i < b->nr_entries; i++ )
    {
        if ( !b->meta[i].doomed )
            continue;
        b->entries[i].op = ops[i];
        b->entries[i].result = b->meta[i].doom_rc;
        b->meta[i].done = b->meta[i].doom_at;
    }
}

/* One multicall, or the call itself when it is alone in the b-> */
static void issue_to_xen(void)
{
    struct mc_cpu *c = this_cpu();
    struct mc_batch *b = &c->batch;
    multicall_entry_t *e = &b->entries[0];
    unsigned int i;
    long rc;

    c->stats.hypercalls++;
    c->stats.entries += b->nr_entries;
    if ( b->nr_entries == 1 )
    {
        e->result = hypercall5(e->op, e->args[0], e->args[1], e->args[2],
                               e->args[3], e->args[4]);
        return;
    }
    rc = HYPERVISOR_multicall(b->entries, b->nr_entries);
    if ( rc )   /* Xen ran none of them: report it against every entry. */
        for ( i = 0; i < b->nr_entries; i++ )
            b->entries[i].result = rc;
}

static void issue(void)
{
    struct mc_batch *b = my_batch();
    unsigned int ops[MC_MAX_ENTRIES], i;

    for ( i = 0; i < b->nr_entries; i++ )
        ops[i] = b->entries[i].op;
    cut_doomed_entries();
    issue_to_xen();
    report_doomed_entries(ops);
}

/* Checks entry i; on failure prints it, fills *err, returns the error. */
static int check_entry(unsigned int i, struct mc_error *err)
{
    struct mc_batch *b = my_batch();
    const multicall_entry_t *e = &b->entries[i];
    const struct entry_meta *m = &b->meta[i];
    long rc = (long)e->result;
    unsigned int done = array_op(e->op) ? m->done : 0;

    if ( !rc && (!array_op(e->op) || m->done == m->count) )
        return 0;
    if ( !rc )
        rc = -XEN_EIO;          /* success reported, but not all done */

    printk("multicall: op %u (%s, entry %u, element %u of %u) failed: %ld\n",
           m->first_op + done, hypercall_name(e->op), i, done,
           array_op(e->op) ? m->count : 1, rc);
    *err = (struct mc_error){
        .op_index = m->first_op + done, .entry = i,
        .hypercall = e->op, .rc = rc,
    };
    return rc;
}

static void run_callbacks(void)
{
    struct mc_batch *b = my_batch();
    unsigned int i, n = b->nr_callbacks;

    b->nr_callbacks = 0;     /* a callback may queue more work */
    for ( i = 0; i < n; i++ )
        b->callbacks[i].fn(b->callbacks[i].arg);
}

static int flush_batch(bool final)
{
    struct mc_cpu *c = this_cpu();
    struct mc_batch *b = &c->batch;
    struct mc_error err;
    int rc, first = 0;
    unsigned int i;

    if ( final && b->tlb_flush_wanted )
    {
        struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_ALL };

        b->tlb_flush_wanted = false;
        /*
         * May issue what is queued first, to make room; if that fails
         * the flush was not queued, and there is room now.
         */
        if ( (first = mc_mmuext(&op)) != 0 )
            (void)mc_mmuext(&op);
    }
    if ( b->nr_entries )
    {
        issue();
        for ( i = 0; i < b->nr_entries; i++ )
        {
            rc = check_entry(i, &err);
            if ( rc && !first )
            {
                first = rc;
                c->last_error = err;   /* the most recent failed batch */
            }
        }
    }
    b->nr_entries = 0;
    b->nr_ops = 0;
    b->arena_used = 0;
    if ( final )
        run_callbacks();
    return first;
}

int mc_flush(void)
{
    return flush_batch(true);
}

const struct mc_stats *mc_get_stats(void)
{
    return &this_cpu()->stats;
}

const struct mc_error *mc_last_error(void)
{
    return &this_cpu()->last_error;
}

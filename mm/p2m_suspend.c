/*
 * The p2m core across a suspend (docs/suspend.md): what the core caches
 * by machine frame, and how it gets the new frames after a restore.
 *
 * The core keeps pages by mfn: the seven shared pages (the missing and
 * identity leaves, L1s and L2s, and the p2m's L3) and the frame list's
 * pages (top, shared mids, private mids).  A restore moves every page to
 * a new frame.  The tools rewrite what they know holds mfns: pinned
 * pagetables (so the linear p2m's tables, part of the kernel's pinned
 * tree, come back walking the new frames) and the p2m's leaves (through
 * the frame list or the linear list).  They do not know the core's own
 * variables, nor the frame list's contents.
 *
 * So, before the suspend, every cached mfn becomes the backend's key for
 * its page (a pfn), and after it the key gives the new mfn through the
 * p2m the tools rewrote.  The frame list's entries are then rebuilt from
 * the structure, and everything the tools read is published again.
 *
 * One more thing the tools cannot know: a shared table that nothing
 * links (a domU's identity L1 and L2: no pfn of a domU is identity) is
 * not a pagetable to Xen, only a read-only page, and is saved as data
 * with the old mfns in it.  Its entries are set again after the resume.
 *
 * Contract: p2m_core_suspend() is the last thing before the suspend
 * hypercall and p2m_core_resume() the first after it; between them no
 * lookup may take the slow path (it compares against the shared pages)
 * and nothing may change the p2m.  A checkpoint (the suspend cancelled,
 * the same frames) goes through the same resume: every key gives back
 * the frame it came from.
 */
#include "p2m_internal.h"

/* The shared pages, in the order of struct p2m_shared_pages. */
static mfn_t *shared_slot(unsigned int i)
{
    mfn_t *slots[] = {
        &p2m_shared.missing, &p2m_shared.identity,
        &p2m_shared.missing_pte, &p2m_shared.identity_pte,
        &p2m_shared.missing_pmd, &p2m_shared.identity_pmd,
        &p2m_shared.l3,
    };

    return i < sizeof(slots) / sizeof(slots[0]) ? slots[i] : NULL;
}

void p2m_core_suspend(void)
{
    unsigned int i;
    mfn_t *m;

    p2m_frames_suspend();
    for ( i = 0; (m = shared_slot(i)) != NULL; i++ )
        *m = _mfn(p2m_be_page_key(*m));
}

/* The shared pages back to frames; 0 or -XEN_ENOENT. */
static int resume_shared(unsigned long *rederived)
{
    unsigned int i;
    mfn_t *m, page;
    int rc = 0;

    for ( i = 0; (m = shared_slot(i)) != NULL; i++ )
    {
        page = p2m_be_key_page(mfn_x(*m));
        if ( mfn_eq(page, INVALID_MFN) && !rc )
        {
            p2m_be_log("p2m: resume: shared page %u (key %#lx) has no "
                       "frame\n", i, mfn_x(*m));
            rc = -XEN_ENOENT;
        }
        *m = page;
        (*rederived)++;
    }
    return rc;
}

/* Sets every entry of table t that does not name child; counts them. */
static int refill_table(mfn_t t, unsigned int level, mfn_t child,
                        unsigned long *fixed)
{
    unsigned int i;
    int rc = 0;

    for ( i = 0; i < P2M_PER_PAGE && !rc; i++ )
        if ( !mfn_eq(p2m_be_entry(t, i, NULL), child) )
        {
            rc = p2m_be_set_entry(t, level, i, child, false);
            (*fixed)++;
        }
    return rc;
}

/* The four shared tables, each naming its kind's page below. */
static int refill_shared_tables(void)
{
    struct p2m_shared_pages *s = &p2m_shared;
    unsigned long fixed = 0;
    int rc;

    p2m_be_batch_begin();
    rc = refill_table(s->missing_pte, 1, s->missing, &fixed);
    rc = rc ? rc : refill_table(s->identity_pte, 1, s->identity, &fixed);
    rc = rc ? rc : refill_table(s->missing_pmd, 2, s->missing_pte, &fixed);
    rc = rc ? rc : refill_table(s->identity_pmd, 2, s->identity_pte,
                                &fixed);
    rc = rc ? (p2m_be_batch_end(), rc) : p2m_be_batch_end();
    if ( fixed )
        p2m_be_log("p2m: resume: %lu entries of shared tables set again "
                   "(saved as data, not as pagetables): %d\n", fixed, rc);
    return rc;
}

int p2m_core_resume(unsigned long *rederived)
{
    int rc;

    *rederived = 0;
    /* The shared pages first: lookups and the frame list compare to them. */
    if ( (rc = resume_shared(rederived)) != 0 ||
         (rc = refill_shared_tables()) != 0 ||
         (rc = p2m_frames_resume(rederived)) != 0 )
        return rc;
    p2m_be_lock();
    p2m_generation_begin();
    p2m_be_publish_linear(p2m_frames_linear_published());
    p2m_frames_set_size(p2m_size);
    p2m_generation_end();
    p2m_be_unlock();
    return 0;
}

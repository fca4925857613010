/*
 * The host backend of the p2m core: see p2m_host.h for the layout.
 *
 * What stands for what:
 *   Xen's page types and reference counts  struct page_info: a sealed
 *       table's entries count as references to their children, a
 *       chunk mapped in the array (a TLB entry) counts as a mapping of
 *       its leaf; a page may be freed only with neither;
 *   the multicall batch                    `queue`: sets, seals, flushes
 *       and the install, applied in order at the outermost batch end
 *       (or at once outside a batch), the first error returned, a
 *       refused update skipped and the rest applied, as a multicall does;
 *   the TLB                                the chunks mapped at P2M_BASE.
 *
 * One thread: the fuzzer drives the core alone; the lock hooks check that
 * the core takes and releases the p2m lock in pairs (mm/p2m_backend.h).
 */
#define _GNU_SOURCE
#include "p2m_host.h"
#include "../../mm/p2m_backend.h"
#include <pvmm/p2m.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_CHUNKS       (P2M_MAX_PFNS / P2M_PER_PAGE)
#define AREA_SIZE       (P2M_MAX_PFNS * sizeof(unsigned long))
/* A table entry: the child's mfn, bit 63 for a writable leaf; ~0: none. */
#define ENTRY_NONE      (~0UL)
#define ENTRY_W         (1UL << 63)
/* What a freed frame holds: neither an mfn nor INVALID nor identity. */
#define POISON          0x5a5a5a5a5a5a5a5aUL

enum page_state { PG_FREE, PG_DATA, PG_SHARED, PG_TABLE };

struct page_info {
    uint8_t state, level;
    bool sealed;
    uint32_t refs;                  /* sealed-table entries naming it */
    uint32_t maps;                  /* chunks of the array mapping it */
};

static int memfd = -1;
static unsigned long max_frames, next_frame, nr_free;
static unsigned long *free_list;
static struct page_info *pages;
static unsigned char *hv, *dm;      /* the backend's view, the direct map */
static unsigned long *m2p;
static mfn_t root = { ~0UL };
static long reservation = -1, fail_alloc_at = -1, refuse_at = -1;
static bool injection_fired, verbose, sabotage_flush;
static struct host_counts counts;
static char last_log[256], last_invalid[256];

sigjmp_buf *host_fault_jmp;
unsigned long host_fault_addr;

static struct {
    unsigned long generation, max_pfn, frame_list, vaddr, cr3;
} pub;

/* ---- genuine faults ---- */

static void __attribute__((noreturn, format(printf, 1, 2)))
refuse(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("p2m host backend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* What Xen would refuse with an error, not a crash: counted. */
static int __attribute__((format(printf, 1, 2))) invalid(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_invalid, sizeof(last_invalid), fmt, ap);
    va_end(ap);
    counts.invalid++;
    return -XEN_EINVAL;
}

static struct page_info *page(mfn_t mfn, const char *who)
{
    if ( mfn_x(mfn) >= next_frame )
        refuse("%s: mfn %#lx was never given out", who, mfn_x(mfn));
    return &pages[mfn_x(mfn)];
}

static unsigned long *hv_page(mfn_t mfn)
{
    return (unsigned long *)(hv + mfn_x(mfn) * PAGE_SIZE);
}

static void protect(mfn_t mfn, bool writable)
{
    if ( mprotect(dm + mfn_x(mfn) * PAGE_SIZE, PAGE_SIZE,
                  writable ? PROT_READ | PROT_WRITE : PROT_READ) )
        refuse("mprotect of mfn %#lx: %s", mfn_x(mfn), strerror(errno));
}

/* ---- the TLB: chunks of the array mapped on a touch ---- */

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
                      off_t off)
{
    /* Straight to the kernel: the sanitizers' wrappers are not for signals. */
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void unmap_range(unsigned long first_chunk, unsigned long n)
{
    void *va = (void *)(P2M_BASE + first_chunk * PAGE_SIZE);

    if ( raw_mmap(va, n * PAGE_SIZE, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                  -1, 0) != va )
        refuse("cannot unmap chunks %#lx+%#lx", first_chunk, n);
}

/*
 * The TLB: which chunks are mapped, to which leaf.  An open-addressed
 * table, not an array over all 2^27 chunks: a sparse array would cost a
 * page fault of its own on most first touches.
 */
struct tlb_entry {
    unsigned long chunk;
    unsigned int leaf;              /* the mfn mapped there (< max_frames) */
    bool used, writable;
};

/* At most 37% full: short probe runs, and 1 MiB to scan on a full flush. */
/*
 * Mapped chunks before the "TLB" is emptied (host_init; each is a map,
 * and Linux allows 65530), and the slots: a power of two, at least twice
 * as many, so that probe runs stay short.
 */
static unsigned long max_filled, tlb_slots;
static unsigned int tlb_bits;
#define TLB_SLOTS       tlb_slots

static struct tlb_entry *tlb;
static unsigned long nr_tlb;

static unsigned long tlb_home(unsigned long c)
{
    return (c * 0x9e3779b97f4a7c15UL) >> (64 - tlb_bits);
}

static struct tlb_entry *tlb_find(unsigned long c)
{
    unsigned long i;

    for ( i = tlb_home(c); tlb[i].used; i = (i + 1) & (TLB_SLOTS - 1) )
        if ( tlb[i].chunk == c )
            return &tlb[i];
    return NULL;
}

static void tlb_insert(unsigned long c, mfn_t leaf, bool writable)
{
    unsigned long i;

    for ( i = tlb_home(c); tlb[i].used; i = (i + 1) & (TLB_SLOTS - 1) )
        ;
    tlb[i] = (struct tlb_entry){ c, mfn_x(leaf), true, writable };
    pages[mfn_x(leaf)].maps++;
    nr_tlb++;
}

/* Linear probing's deletion: later members of the run move back. */
static void tlb_remove(struct tlb_entry *e)
{
    unsigned long i = (unsigned long)(e - tlb), j = i, home;

    pages[e->leaf].maps--;
    e->used = false;
    nr_tlb--;
    for ( ;; )
    {
        j = (j + 1) & (TLB_SLOTS - 1);
        if ( !tlb[j].used )
            return;
        home = tlb_home(tlb[j].chunk);
        if ( i <= j ? (home > i && home <= j) : (home > i || home <= j) )
            continue;
        tlb[i] = tlb[j];
        tlb[j].used = false;
        i = j;
    }
}

static void unfill(unsigned long c)
{
    struct tlb_entry *e = tlb_find(c);

    if ( !e )
        return;
    tlb_remove(e);
    unmap_range(c, 1);
}

static void unfill_all(void)
{
    unsigned long i;

    /* Nothing mapped, nothing to scan (each page of the table is a fault). */
    for ( i = 0; nr_tlb && i < TLB_SLOTS; i++ )
        if ( tlb[i].used )
        {
            pages[tlb[i].leaf].maps--;
            tlb[i].used = false;
        }
    nr_tlb = 0;
    unmap_range(0, NR_CHUNKS);
}

static bool walk_chunk(unsigned long c, mfn_t *leaf, bool *writable);

/*
 * A flush: every mapped chunk whose walk now gives another leaf (or
 * another writability) is dropped.  One the walk gives unchanged is kept:
 * after a real flush the next touch would map the very same page, so
 * keeping it cannot be told apart, and it saves a fault per chunk.
 */
static bool still_valid(const struct tlb_entry *e)
{
    bool writable;
    mfn_t leaf;

    return walk_chunk(e->chunk, &leaf, &writable) &&
           mfn_x(leaf) == e->leaf && writable == e->writable;
}

static void flush(unsigned long c)
{
    struct tlb_entry *e = tlb_find(c);

    if ( e && !still_valid(e) )
        unfill(c);
}

static void flush_all(void)
{
    unsigned long i;

    for ( i = 0; i < TLB_SLOTS; i++ )
        while ( tlb[i].used && !still_valid(&tlb[i]) )
            unfill(tlb[i].chunk);   /* the next one may move into slot i */
}

/* What entry i of table t names; the raw entry in *raw. */
static mfn_t table_entry(mfn_t t, unsigned int i, unsigned long *raw)
{
    unsigned long e = hv_page(t)[i];

    if ( raw )
        *raw = e;
    return e == ENTRY_NONE ? INVALID_MFN : _mfn(e & ~ENTRY_W);
}

/* The leaf the installed tables give chunk c; false if they give none. */
static bool walk_chunk(unsigned long c, mfn_t *leaf, bool *writable)
{
    unsigned long raw;
    mfn_t l2, l1;

    if ( mfn_eq(root, INVALID_MFN) )
        return false;
    l2 = table_entry(root, c / (P2M_PER_PAGE * P2M_PER_PAGE), NULL);
    if ( mfn_eq(l2, INVALID_MFN) )
        return false;
    l1 = table_entry(l2, c / P2M_PER_PAGE % P2M_PER_PAGE, NULL);
    if ( mfn_eq(l1, INVALID_MFN) )
        return false;
    *leaf = table_entry(l1, c % P2M_PER_PAGE, &raw);
    *writable = raw & ENTRY_W;
    return !mfn_eq(*leaf, INVALID_MFN);
}

/* Maps chunk c as the tables say; false if they map nothing there. */
static bool fill(unsigned long c)
{
    void *va = (void *)(P2M_BASE + c * PAGE_SIZE);
    bool writable;
    mfn_t leaf;

    if ( !walk_chunk(c, &leaf, &writable) )
        return false;
    if ( nr_tlb >= max_filled )
        unfill_all();               /* the TLB is full: start again */
    if ( raw_mmap(va, PAGE_SIZE, writable ? PROT_READ | PROT_WRITE
                                          : PROT_READ,
                  /* populated now: the access retried needs no fault */
                  MAP_SHARED | MAP_FIXED | MAP_POPULATE, memfd,
                  (off_t)(mfn_x(leaf) * PAGE_SIZE)) != va )
        return false;
    tlb_insert(c, leaf, writable);
    counts.fills++;
    return true;
}

/* "<what> 0x<hex>\n" to stderr, with nothing a signal cannot call. */
static void say_hex(const char *what, unsigned long v)
{
    char buf[96];
    size_t n = strlen(what);
    int i;

    memcpy(buf, what, n);
    buf[n++] = '0';
    buf[n++] = 'x';
    for ( i = 60; i >= 0; i -= 4 )
        buf[n++] = "0123456789abcdef"[(v >> i) & 0xf];
    buf[n++] = '\n';
    if ( write(2, buf, n) < 0 )
        _exit(99);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    unsigned long a = (unsigned long)si->si_addr, c;

    (void)sig;
    (void)uc;
    if ( a >= P2M_BASE && a < P2M_BASE + AREA_SIZE )
    {
        c = (a - P2M_BASE) / PAGE_SIZE;
        if ( !tlb_find(c) && fill(c) )
            return;                 /* a TLB miss, served */
    }
    host_fault_addr = a;
    if ( host_fault_jmp )
        siglongjmp(*host_fault_jmp, 1);
    say_hex("p2m host backend: genuine fault at ", a);
    if ( a >= P2M_BASE && a < P2M_BASE + AREA_SIZE )
        say_hex("  in the array: pfn ", (a - P2M_BASE) / sizeof(long));
    signal(SIGSEGV, SIG_DFL);       /* the re-fault ends the process */
}

/* ---- set-up ---- */

static void *reserve(size_t len, int prot)
{
    void *p = mmap(NULL, len, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

static int map_views(void)
{
    size_t len = max_frames * PAGE_SIZE;

    memfd = memfd_create("pvmm-p2m-frames", 0);
    if ( memfd < 0 || ftruncate(memfd, (off_t)len) )
        return -1;
    hv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    dm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    return hv == MAP_FAILED || dm == MAP_FAILED ? -1 : 0;
}

int host_init(unsigned long frames, unsigned long mapped)
{
    struct sigaction sa = { .sa_sigaction = on_segv,
                            .sa_flags = SA_SIGINFO | SA_NODEFER };
    void *area;

    max_frames = frames;
    max_filled = mapped;
    for ( tlb_bits = 1; (1UL << tlb_bits) < 2 * mapped; tlb_bits++ )
        ;
    tlb_slots = 1UL << tlb_bits;
    if ( frames >= HOST_GUEST_MFN_BASE || map_views() )
        return -1;
    pages = calloc(frames, sizeof(*pages));
    free_list = calloc(frames, sizeof(*free_list));
    tlb = calloc(TLB_SLOTS, sizeof(*tlb));
    m2p = reserve(HOST_M2P_ENTRIES * sizeof(*m2p), PROT_READ | PROT_WRITE);
    area = mmap((void *)P2M_BASE, AREA_SIZE, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                MAP_FIXED_NOREPLACE, -1, 0);
    if ( !pages || !free_list || !tlb || !m2p ||
         area != (void *)P2M_BASE )
        return -1;
    return sigaction(SIGSEGV, &sa, NULL);
}

/* ---- what the fuzzer and the benchmarks ask ---- */

void host_m2p_set(unsigned long mfn, unsigned long pfn)
{
    if ( mfn >= HOST_M2P_ENTRIES )
        refuse("M2P: mfn %#lx beyond the M2P", mfn);
    m2p[mfn] = pfn + 1;             /* 0, as mapped: no pfn */
}

void host_set_reservation(long n) { reservation = n; }
void host_fail_alloc(long n) { fail_alloc_at = n; }
void host_refuse_update(long n) { refuse_at = n; }
void host_set_verbose(bool v) { verbose = v; }
void host_sabotage_flushes(void) { sabotage_flush = true; }
const char *host_last_log(void) { return last_log; }
const char *host_last_invalid(void) { return last_invalid; }

bool host_injection_fired(void)
{
    bool f = injection_fired;

    injection_fired = false;
    return f;
}

const unsigned long *host_frame(mfn_t mfn)
{
    return hv_page(mfn);
}

bool host_frame_in_use(mfn_t mfn)
{
    return mfn_x(mfn) < next_frame && pages[mfn_x(mfn)].state != PG_FREE;
}

void host_counts(struct host_counts *c)
{
    *c = counts;
}

bool host_store_faults(unsigned long *va, unsigned long val)
{
    sigjmp_buf jb;

    if ( sigsetjmp(jb, 1) )
    {
        host_fault_jmp = NULL;
        return true;
    }
    host_fault_jmp = &jb;
    barrier();                      /* the handler must see it set first */
    WRITE_ONCE(*va, val);
    barrier();
    host_fault_jmp = NULL;
    return false;
}

/* Counts down an injection; true when it fires. */
static bool inject(long *at)
{
    if ( *at < 0 || (*at)-- > 0 )
        return false;
    injection_fired = true;
    counts.injected++;
    return true;
}

unsigned long p2m_m2p_raw(mfn_t mfn)
{
    return mfn_x(mfn) < HOST_M2P_ENTRIES ? m2p[mfn_x(mfn)] - 1 : ~0UL;
}

/* ---- the backend: pages ---- */

void p2m_be_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    if ( verbose )
        fputs(last_log, stderr);
}

static mfn_t alloc_frame(enum page_state state)
{
    unsigned long f;

    if ( inject(&fail_alloc_at) )
        return INVALID_MFN;
    if ( nr_free )
        f = free_list[--nr_free];
    else if ( next_frame < max_frames )
        f = next_frame++;
    else
        return INVALID_MFN;
    pages[f] = (struct page_info){ .state = state };
    counts.allocs++;
    counts.pages_in_use++;
    return _mfn(f);
}

/* Back to the allocator: only what nothing names or maps any more. */
static void free_frame(mfn_t mfn, const char *who)
{
    struct page_info *pg = page(mfn, who);

    if ( pg->refs || pg->maps )
        refuse("%s(%#lx): still named by %u table entries and mapped at "
               "%u chunks", who, mfn_x(mfn), pg->refs, pg->maps);
    if ( pg->state != PG_DATA && pg->state != PG_TABLE )
        refuse("%s(%#lx): not a private page (state %u)", who, mfn_x(mfn),
               pg->state);
    p2m_page_fill(hv_page(mfn), POISON);
    pg->state = PG_FREE;
    free_list[nr_free++] = mfn_x(mfn);
    counts.frees++;
    counts.pages_in_use--;
}

mfn_t p2m_be_page_alloc(unsigned long **va)
{
    mfn_t mfn = alloc_frame(PG_DATA);

    if ( !mfn_eq(mfn, INVALID_MFN) )
        *va = p2m_be_page_va(mfn);
    return mfn;
}

/*
 * Only data pages have an address: tables change only through
 * p2m_be_set_entry(), as Xen's validated pagetables do.  (Checked here
 * rather than by making each table read-only: an mprotect per seal and
 * per free cost a fifth of the fuzzer's time.)
 */
unsigned long *p2m_be_page_va(mfn_t mfn)
{
    uint8_t st = page(mfn, "p2m_be_page_va")->state;

    if ( st != PG_DATA && st != PG_SHARED )
        refuse("p2m_be_page_va(%#lx): not a data page (state %u)",
               mfn_x(mfn), st);
    return (unsigned long *)(dm + mfn_x(mfn) * PAGE_SIZE);
}

void p2m_be_page_free(mfn_t mfn)
{
    if ( page(mfn, "p2m_be_page_free")->state != PG_DATA )
        refuse("p2m_be_page_free(%#lx): not a data page", mfn_x(mfn));
    free_frame(mfn, "p2m_be_page_free");
}

int p2m_be_page_share(mfn_t mfn)
{
    struct page_info *pg = page(mfn, "p2m_be_page_share");

    if ( pg->state != PG_DATA || pg->maps )
        refuse("p2m_be_page_share(%#lx): not an unmapped data page",
               mfn_x(mfn));
    pg->state = PG_SHARED;
    protect(mfn, false);
    return 0;
}

bool p2m_be_page_is_free(mfn_t mfn)
{
    return !host_frame_in_use(mfn);
}

/* ---- the backend: tables ---- */

static unsigned long make_entry(unsigned int level, mfn_t child, bool w)
{
    if ( mfn_eq(child, INVALID_MFN) )
        return ENTRY_NONE;
    return mfn_x(child) | (level == 1 && w ? ENTRY_W : 0);
}

mfn_t p2m_be_table_alloc(unsigned int level, mfn_t fill_mfn, bool fill_w)
{
    mfn_t t = alloc_frame(PG_TABLE);

    if ( mfn_eq(t, INVALID_MFN) )
        return t;
    if ( level < 1 || level > 3 )
        refuse("p2m_be_table_alloc: level %u", level);
    pages[mfn_x(t)].level = level;
    p2m_page_fill(hv_page(t), make_entry(level, fill_mfn, fill_w));
    return t;
}

/*
 * Would Xen let a table of `level` name child?  A leaf must be a data
 * page (a shared one only read-only); a table must be sealed, one level
 * down.  Returns NULL or why not.
 */
static const char *bad_child(unsigned int level, mfn_t child, bool w)
{
    const struct page_info *pg;

    if ( mfn_eq(child, INVALID_MFN) )
        return NULL;
    if ( mfn_x(child) >= next_frame )
        return "a frame never given out";
    pg = &pages[mfn_x(child)];
    if ( level == 1 )
        return pg->state == PG_DATA ? NULL :
               pg->state == PG_SHARED ? (w ? "a shared leaf, writable" : NULL)
                                      : "not a data page";
    if ( pg->state != PG_TABLE || !pg->sealed )
        return "not a sealed table";
    return pg->level == level - 1 ? NULL : "a table of another level";
}

static int apply_seal(mfn_t t, unsigned int level)
{
    struct page_info *pg = page(t, "p2m_be_table_seal");
    const unsigned long *e = hv_page(t);
    const char *why;
    unsigned int i;

    if ( pg->state != PG_TABLE || pg->sealed || pg->level != level )
        refuse("p2m_be_table_seal(%#lx, %u): not an unsealed table of "
               "that level", mfn_x(t), level);
    if ( inject(&refuse_at) )
        return -XEN_EPERM;
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( (why = bad_child(level, table_entry(t, i, NULL),
                              e[i] & ENTRY_W)) != NULL )
            return invalid("seal of L%u %#lx: entry %u names %s", level,
                           mfn_x(t), i, why);
    for ( i = 0; i < P2M_PER_PAGE; i++ )
        if ( e[i] != ENTRY_NONE )
            pages[mfn_x(table_entry(t, i, NULL))].refs++;
    pg->sealed = true;
    counts.updates++;
    return 0;
}

static int apply_set(mfn_t t, unsigned int level, unsigned long pos,
                     mfn_t child, bool w)
{
    struct page_info *pg = page(t, "p2m_be_set_entry");
    unsigned long *e = &hv_page(t)[pos % P2M_PER_PAGE];
    mfn_t old = table_entry(t, pos % P2M_PER_PAGE, NULL);
    const char *why = bad_child(level, child, w);

    if ( pg->state != PG_TABLE || pg->level != level )
        refuse("p2m_be_set_entry(%#lx, %u): not a table of that level",
               mfn_x(t), level);
    if ( !pg->sealed )
    {
        *e = make_entry(level, child, w);   /* a plain store */
        return 0;
    }
    if ( inject(&refuse_at) )
        return -XEN_EPERM;
    if ( why )
        return invalid("L%u %#lx entry %lu: %s", level, mfn_x(t), pos, why);
    if ( !mfn_eq(old, INVALID_MFN) )
        pages[mfn_x(old)].refs--;
    if ( !mfn_eq(child, INVALID_MFN) )
        pages[mfn_x(child)].refs++;
    *e = make_entry(level, child, w);
    counts.updates++;
    return 0;
}

static int apply_install(mfn_t l3)
{
    const char *why = bad_child(4, l3, false);

    if ( why )
        refuse("p2m_be_install(%#lx): %s", mfn_x(l3), why);
    if ( !mfn_eq(root, INVALID_MFN) )
        pages[mfn_x(root)].refs--;
    root = l3;
    pages[mfn_x(l3)].refs++;
    unfill_all();
    return 0;
}

void p2m_be_table_free(mfn_t t)
{
    struct page_info *pg = page(t, "p2m_be_table_free");
    unsigned int i;

    if ( pg->state != PG_TABLE )
        refuse("p2m_be_table_free(%#lx): not a table", mfn_x(t));
    if ( pg->refs )
        refuse("p2m_be_table_free(%#lx): still linked", mfn_x(t));
    if ( pg->sealed )
        for ( i = 0; i < P2M_PER_PAGE; i++ )
            if ( hv_page(t)[i] != ENTRY_NONE )
                pages[mfn_x(table_entry(t, i, NULL))].refs--;
    pg->sealed = false;
    free_frame(t, "p2m_be_table_free");
}

mfn_t p2m_be_entry(mfn_t t, unsigned int index, bool *writable)
{
    unsigned long m = mfn_x(t), raw;

    /* The core's hottest call: checked inline, no helper. */
    if ( m >= next_frame || pages[m].state != PG_TABLE ||
         index >= P2M_PER_PAGE )
        refuse("p2m_be_entry(%#lx, %u): not a table", m, index);
    raw = ((const unsigned long *)(hv + m * PAGE_SIZE))[index];
    if ( writable )
        *writable = raw & ENTRY_W;
    return raw == ENTRY_NONE ? INVALID_MFN : _mfn(raw & ~ENTRY_W);
}

/* ---- the batch ---- */

enum op_kind { OP_SET, OP_SEAL, OP_FLUSH_CHUNK, OP_FLUSH_ALL, OP_INSTALL };

struct op {
    enum op_kind kind;
    mfn_t t, child;
    unsigned int level;
    unsigned long pos;
    bool w;
};

static struct op *queue;
static unsigned long nr_queued, queue_size;
static unsigned int depth;

static int apply(const struct op *op)
{
    switch ( op->kind )
    {
    case OP_SET:
        return apply_set(op->t, op->level, op->pos, op->child, op->w);
    case OP_SEAL:
        return apply_seal(op->t, op->level);
    case OP_FLUSH_CHUNK:
        counts.flush_chunk++;
        if ( !sabotage_flush )
            flush(op->pos);
        return 0;
    case OP_FLUSH_ALL:
        counts.flush_all++;
        if ( !sabotage_flush )
            flush_all();
        return 0;
    default:
        return apply_install(op->t);
    }
}

/* Queued inside a batch, applied at once outside one. */
static int submit(struct op op)
{
    if ( !depth )
        return apply(&op);
    if ( nr_queued == queue_size )
    {
        queue_size = queue_size ? 2 * queue_size : 1024;
        queue = realloc(queue, queue_size * sizeof(*queue));
        if ( !queue )
            refuse("no memory for the batch");
    }
    queue[nr_queued++] = op;
    return 0;
}

/*
 * The writers' lock: one thread here, so it only checks that the core
 * never takes it twice nor releases it unheld.
 */
static bool p2m_locked;

void p2m_be_lock(void)
{
    if ( p2m_locked )
        refuse("p2m_be_lock: taken twice");
    p2m_locked = true;
}

void p2m_be_unlock(void)
{
    if ( !p2m_locked )
        refuse("p2m_be_unlock: not held");
    p2m_locked = false;
}

bool p2m_be_writing(void)
{
    return p2m_locked;
}

void p2m_be_relax(void)
{
}

void p2m_be_batch_begin(void)
{
    depth++;
}

int p2m_be_batch_end(void)
{
    unsigned long i;
    int rc, first = 0;

    if ( !depth )
        refuse("p2m_be_batch_end without a batch");
    depth--;
    for ( i = 0; i < nr_queued; i++ )
        if ( (rc = apply(&queue[i])) != 0 && !first )
            first = rc;
    if ( nr_queued )
        counts.batches++;
    nr_queued = 0;
    return first;
}

int p2m_be_table_seal(mfn_t t, unsigned int level)
{
    return submit((struct op){ .kind = OP_SEAL, .t = t, .level = level });
}

int p2m_be_set_entry(mfn_t t, unsigned int level, unsigned long pos,
                     mfn_t child, bool w)
{
    return submit((struct op){ .kind = OP_SET, .t = t, .level = level,
                               .pos = pos, .child = child, .w = w });
}

int p2m_be_install(mfn_t l3)
{
    return submit((struct op){ .kind = OP_INSTALL, .t = l3 });
}

int p2m_be_flush_chunk(unsigned long chunk)
{
    return submit((struct op){ .kind = OP_FLUSH_CHUNK, .pos = chunk });
}

int p2m_be_flush_all(void)
{
    return submit((struct op){ .kind = OP_FLUSH_ALL });
}

/* ---- what the tools read ---- */

unsigned long *p2m_be_generation(void)
{
    return &pub.generation;
}

void p2m_be_publish_size(unsigned long max_pfn, mfn_t top)
{
    pub.max_pfn = max_pfn;
    pub.frame_list = mfn_x(top);
}

void p2m_be_publish_linear(bool linear)
{
    pub.vaddr = P2M_BASE;
    pub.cr3 = linear ? mfn_x(root) : 0;
}

void p2m_be_published(struct p2m_be_published *p)
{
    *p = (struct p2m_be_published){
        .generation = pub.generation, .max_pfn = pub.max_pfn,
        .frame_list = pub.frame_list, .vaddr = pub.vaddr, .cr3 = pub.cr3,
        .cr3_expected = mfn_x(root),
    };
}

long p2m_be_reservation(void)
{
    return reservation;
}

/* A checkpoint on the host: every page keeps its frame. */
unsigned long p2m_be_page_key(mfn_t mfn)
{
    return mfn_x(mfn);
}

mfn_t p2m_be_key_page(unsigned long key)
{
    return host_frame_in_use(_mfn(key)) ? _mfn(key) : INVALID_MFN;
}

/*
 * The fuzzer's model of the p2m (tests/host/fuzz_model.c): a flat map
 * pfn -> entry, written only by the fuzzer, and the structure the core
 * must have for its contents, counted by hand from the entries alone:
 *
 *   a chunk (512 pfns) needs a private leaf unless all its entries are
 *     one shared kind (all missing, or all identity);
 *   a GiB (512 chunks) needs a private L1 unless all its chunks are
 *     shared leaves of one kind;
 *   512 GiB need a private L2 unless all their GiBs are one shared kind.
 *
 * Only what differs from the unwritten kind is stored, so a p2m spread
 * over 2^36 pfns costs what it holds.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

enum model_kind { MK_MISSING, MK_IDENTITY, MK_REAL };

struct model {
    bool unwritten_identity;
    unsigned long size;             /* p2m_size as the rules give it */
    unsigned long built_size;
    unsigned long populated;        /* real entries */
    unsigned long priv_leaves, priv_l1, priv_l2;
    /* GiBs below 512 GiB that have needed a private L1 (frame-list mids) */
    unsigned char mid_needed[512];
};

void model_init(struct model *m, bool unwritten_identity);
void model_free(struct model *m);

/* The entry pfn holds (INVALID_P2M_ENTRY, IDENTITY_FRAME(pfn) or an mfn). */
unsigned long model_get(const struct model *m, unsigned long pfn);
void model_set(struct model *m, unsigned long pfn, unsigned long entry);

/* What chunk c holds: one shared kind, or MK_REAL (a private leaf). */
enum model_kind model_chunk_kind(const struct model *m, unsigned long c);

/*
 * p2m_trim()'s size: the end of the last chunk holding anything but
 * the unwritten kind, never below the built size, never above the size.
 */
unsigned long model_trimmed_size(const struct model *m);

/* Calls fn for every stored (non-unwritten) entry. */
void model_for_each(const struct model *m,
                    void (*fn)(unsigned long pfn, unsigned long e, void *),
                    void *ctx);
unsigned long model_stored(const struct model *m);

#endif /* FUZZ_MODEL_H */

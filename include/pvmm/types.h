/*
 * Basic types for a freestanding kernel, and typed frame numbers.
 *
 * pfn_t (pseudo-physical frame) and mfn_t (machine frame) are one-member
 * structs, so that the compiler rejects passing one where the other is
 * expected; virtual addresses are pointers.  Raw numbers appear only at
 * the hypercall and pagetable-entry boundary, through pfn_x()/mfn_x() and
 * _pfn()/_mfn().
 */
#ifndef PVMM_TYPES_H
#define PVMM_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define PAGE_MASK       (~(PAGE_SIZE - 1))

typedef struct { unsigned long pfn; } pfn_t;
typedef struct { unsigned long mfn; } mfn_t;

static inline pfn_t _pfn(unsigned long pfn) { return (pfn_t){ pfn }; }
static inline mfn_t _mfn(unsigned long mfn) { return (mfn_t){ mfn }; }
static inline unsigned long pfn_x(pfn_t pfn) { return pfn.pfn; }
static inline unsigned long mfn_x(mfn_t mfn) { return mfn.mfn; }

#define INVALID_MFN     _mfn(~0UL)
#define INVALID_PFN     _pfn(~0UL)

static inline bool mfn_eq(mfn_t a, mfn_t b) { return a.mfn == b.mfn; }
static inline bool pfn_eq(pfn_t a, pfn_t b) { return a.pfn == b.pfn; }

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define ROUNDUP(x, a)   (((x) + (a) - 1) & ~((a) - 1))
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))

#define __noreturn      __attribute__((noreturn))
#define __printf(f, a)  __attribute__((format(printf, f, a)))
#define __aligned(n)    __attribute__((aligned(n)))
#define __section(s)    __attribute__((section(s)))
#define __used          __attribute__((used))

#define barrier()       asm volatile ( "" ::: "memory" )
#define wmb()           barrier()   /* x86 stores are not reordered */
#define rmb()           barrier()   /* x86 loads are not reordered */
/* A store then a load of another word: the one reordering x86 does. */
#define mb()            asm volatile ( "mfence" ::: "memory" )

#define READ_ONCE(x)    (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

#endif /* PVMM_TYPES_H */

/*
 * CPU features the kernel depends on.
 */
#include <pvmm/cpu.h>
#include <pvmm/pte.h>

uint64_t pte_nx;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
                  uint32_t *d)
{
    asm volatile ( "cpuid" : "=a" (*a), "=b" (*b), "=c" (*c), "=d" (*d)
                   : "0" (leaf), "2" (0) );
}

void cpu_init(void)
{
    uint32_t a, b, c, d;

    cpuid(0x80000000, &a, &b, &c, &d);
    if ( a < 0x80000001 )
        return;
    cpuid(0x80000001, &a, &b, &c, &d);
    /* Xen turns EFER.NXE on whenever the CPU has NX. */
    if ( d & (1U << 20) )
        pte_nx = _PAGE_NX;
}

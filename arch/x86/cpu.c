/*
 * CPU features the kernel depends on.
 */
#include <pvmm/cpu.h>
#include <pvmm/pte.h>
#include <xen/arch-x86/cpuid.h>

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

/*
 * A plain cpuid in a PV guest may reach the CPU itself (without CPUID
 * faulting Xen cannot intercept it); the prefix "ud2; .ascii 'xen'" makes
 * Xen emulate the cpuid that follows, with its own leaves.
 */
static void xen_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a,
                      uint32_t *b, uint32_t *c, uint32_t *d)
{
    asm volatile ( "ud2a; .ascii \"xen\"; cpuid"
                   : "=a" (*a), "=b" (*b), "=c" (*c), "=d" (*d)
                   : "0" (leaf), "2" (subleaf) );
}

/* Xen's leaves start at 0x40000000 or, next to Viridian's, 0x100 higher. */
static uint32_t xen_cpuid_base(void)
{
    uint32_t base, a, b, c, d;

    for ( base = XEN_CPUID_FIRST_LEAF; base < XEN_CPUID_FIRST_LEAF + 0x10000;
          base += 0x100 )
    {
        xen_cpuid(base, 0, &a, &b, &c, &d);
        if ( b == XEN_CPUID_SIGNATURE_EBX && c == XEN_CPUID_SIGNATURE_ECX &&
             d == XEN_CPUID_SIGNATURE_EDX && a - base >= 3 && a - base < 0x100 )
            return base;
    }
    return 0;
}

bool cpu_xen_tsc_info(struct cpu_xen_tsc *tsc)
{
    uint32_t base = xen_cpuid_base(), a, b, c, d;

    if ( !base )
        return false;
    xen_cpuid(base + 3, 0, &a, &b, &c, &d);
    tsc->emulated = a & 1;
    tsc->reliable = a & 2;
    tsc->mode = b;
    tsc->khz = c;
    return true;
}

/*
 * ELF notes read by Xen's domain builder (see xen/elfnote.h).
 *
 * Deliberately absent: XEN_ELFNOTE_FEATURES "writable_page_tables".  Every
 * pagetable write goes through mmu_update/update_va_mapping, so Xen checks
 * each one and a mistake shows up as a refused hypercall, not as silent
 * emulation.
 */
#include <xen/elfnote.h>

#define ELFNOTE(type, desc_directive, value)       \
    .pushsection .note.Xen, "a", @note;            \
    .balign 4;                                     \
    .long 2f - 1f;      /* name size */            \
    .long 4f - 3f;      /* descriptor size */      \
    .long type;                                    \
1:  .asciz "Xen";                                  \
2:  .balign 4;                                     \
3:  desc_directive value;                          \
4:  .balign 4;                                     \
    .popsection

ELFNOTE(XEN_ELFNOTE_GUEST_OS,       .asciz, "pvmm")
ELFNOTE(XEN_ELFNOTE_GUEST_VERSION,  .asciz, "0.1")
ELFNOTE(XEN_ELFNOTE_XEN_VERSION,    .asciz, "xen-3.0")
ELFNOTE(XEN_ELFNOTE_LOADER,         .asciz, "generic")
ELFNOTE(XEN_ELFNOTE_VIRT_BASE,      .quad,  VIRT_BASE)
ELFNOTE(XEN_ELFNOTE_PADDR_OFFSET,   .quad,  0)
ELFNOTE(XEN_ELFNOTE_ENTRY,          .quad,  _start)
ELFNOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad,  hypercall_page)

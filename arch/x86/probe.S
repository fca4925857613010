/*
 * Accesses that are allowed to fault.
 *
 * Each probe is one load or store with an exception-table entry
 * (faulting rip -> fixup rip).  When the access faults, trap_handle()
 * records the fault in exc_last_fault and resumes at the fixup, which
 * returns 1; without a fault the probe returns 0.
 */
    .text

/* int exc_raw_read(const volatile void *va [rdi], uint64_t *val [rsi]) */
    .globl exc_raw_read
exc_raw_read:
1:  mov     (%rdi), %rax
    mov     %rax, (%rsi)
    xor     %eax, %eax
    ret
2:  mov     $1, %eax
    ret
    .pushsection .ex_table, "a"
    .quad   1b, 2b
    .popsection

/* int exc_raw_write(volatile void *va [rdi], uint64_t val [rsi]) */
    .globl exc_raw_write
exc_raw_write:
1:  mov     %rsi, (%rdi)
    xor     %eax, %eax
    ret
2:  mov     $1, %eax
    ret
    .pushsection .ex_table, "a"
    .quad   1b, 2b
    .popsection

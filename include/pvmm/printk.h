/*
 * Formatted output.
 *
 * format() is the one formatter: it hands each produced character to a
 * sink, so printk() never truncates (it streams to the console in chunks)
 * and snprintf() can report the length it would have needed.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with flags '-' '0' '#', a field
 * width (or '*'), a precision for %s (or '.*'), and length modifiers
 * l, ll, z.  %p prints 0x and 16 hex digits.
 */
#ifndef PVMM_PRINTK_H
#define PVMM_PRINTK_H

#include <pvmm/types.h>

typedef void (*format_sink_t)(void *ctx, char c);

/* Returns the number of characters produced. */
size_t format(format_sink_t sink, void *ctx, const char *fmt, va_list ap);

/* Like C's: returns the length the full output needs, excluding the NUL. */
size_t vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

#endif /* PVMM_PRINTK_H */

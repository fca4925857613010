/*
 * printk: format() into a small buffer that is handed to the console each
 * time it fills, so a message of any length goes out whole.
 */
#include <pvmm/printk.h>
#include <pvmm/console.h>

struct printk_buf {
    char data[128];
    size_t used;
};

static void printk_sink(void *p, char c)
{
    struct printk_buf *b = p;

    if ( b->used == sizeof(b->data) )
    {
        cons_write(b->data, b->used);
        b->used = 0;
    }
    b->data[b->used++] = c;
}

void vprintk(const char *fmt, va_list ap)
{
    struct printk_buf b = { .used = 0 };

    format(printk_sink, &b, fmt, ap);
    if ( b.used )
        cons_write(b.data, b.used);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

/*
 * The formatter behind printk() and snprintf().  Pure logic with no
 * dependency on the kernel, so the host unit tests compile this file as is.
 */
#include <pvmm/printk.h>

struct spec {
    bool left;          /* '-' */
    bool zero;          /* '0' */
    bool alt;           /* '#': 0x prefix for hex */
    int width;
    int precision;      /* -1: none */
    int length;         /* number of 'l's; 'z' counts as 1 */
};

struct out {
    format_sink_t sink;
    void *ctx;
    size_t count;
};

static void emit(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void emit_padding(struct out *o, char c, int n)
{
    while ( n-- > 0 )
        emit(o, c);
}

/* Emits prefix and digits padded to the field width. */
static void emit_field(struct out *o, const struct spec *sp,
                       const char *prefix, const char *digits, int ndigits)
{
    int nprefix = 0, pad;

    while ( prefix[nprefix] )
        nprefix++;
    pad = sp->width - nprefix - ndigits;

    if ( !sp->left && !sp->zero )
        emit_padding(o, ' ', pad);
    while ( *prefix )
        emit(o, *prefix++);
    if ( !sp->left && sp->zero )
        emit_padding(o, '0', pad);
    while ( ndigits-- )
        emit(o, *digits++);
    if ( sp->left )
        emit_padding(o, ' ', pad);
}

static void emit_number(struct out *o, const struct spec *sp,
                        unsigned long long v, bool negative,
                        unsigned int base, bool upper)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int i = sizeof(buf);
    const char *prefix = "";

    do {
        buf[--i] = set[v % base];
        v /= base;
    } while ( v );

    if ( negative )
        prefix = "-";
    else if ( sp->alt && base == 16 )
        prefix = upper ? "0X" : "0x";
    emit_field(o, sp, prefix, buf + i, sizeof(buf) - i);
}

static void emit_string(struct out *o, const struct spec *sp, const char *s)
{
    struct spec plain = *sp;
    int len = 0;

    if ( !s )
        s = "(null)";
    while ( (sp->precision < 0 || len < sp->precision) && s[len] )
        len++;
    plain.zero = false;
    emit_field(o, &plain, "", s, len);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    *sp = (struct spec){ .precision = -1 };

    for ( ; ; f++ )
    {
        if ( *f == '-' )
            sp->left = true;
        else if ( *f == '0' )
            sp->zero = true;
        else if ( *f == '#' )
            sp->alt = true;
        else
            break;
    }
    if ( *f == '*' )
    {
        sp->width = va_arg(*ap, int);
        f++;
    }
    for ( ; *f >= '0' && *f <= '9'; f++ )
        sp->width = sp->width * 10 + (*f - '0');
    if ( *f == '.' )
    {
        sp->precision = 0;
        if ( *++f == '*' )
        {
            sp->precision = va_arg(*ap, int);
            f++;
        }
        for ( ; *f >= '0' && *f <= '9'; f++ )
            sp->precision = sp->precision * 10 + (*f - '0');
    }
    for ( ; *f == 'l' || *f == 'z'; f++ )
        sp->length++;
    return f;
}

static unsigned long long arg_unsigned(const struct spec *sp, va_list *ap)
{
    if ( sp->length >= 2 )
        return va_arg(*ap, unsigned long long);
    if ( sp->length == 1 )
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned int);
}

static long long arg_signed(const struct spec *sp, va_list *ap)
{
    if ( sp->length >= 2 )
        return va_arg(*ap, long long);
    if ( sp->length == 1 )
        return va_arg(*ap, long);
    return va_arg(*ap, int);
}

static void emit_conversion(struct out *o, struct spec *sp, char conv,
                            va_list *ap)
{
    long long s;

    switch ( conv )
    {
    case 'd': case 'i':
        s = arg_signed(sp, ap);
        emit_number(o, sp, s < 0 ? -(unsigned long long)s : (unsigned long long)s,
                    s < 0, 10, false);
        break;
    case 'u':
        emit_number(o, sp, arg_unsigned(sp, ap), false, 10, false);
        break;
    case 'x': case 'X':
        emit_number(o, sp, arg_unsigned(sp, ap), false, 16, conv == 'X');
        break;
    case 'p':
        sp->alt = sp->zero = true;
        sp->width = 18;
        emit_number(o, sp, (unsigned long)va_arg(*ap, void *), false, 16,
                    false);
        break;
    case 's':
        emit_string(o, sp, va_arg(*ap, const char *));
        break;
    case 'c':
        emit(o, (char)va_arg(*ap, int));
        break;
    case '%':
        emit(o, '%');
        break;
    default:
        /* Show an unknown conversion rather than dropping it silently. */
        emit(o, '%');
        emit(o, conv);
        break;
    }
}

size_t format(format_sink_t sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = { sink, ctx, 0 };
    struct spec sp;
    va_list args;

    va_copy(args, ap);
    while ( *fmt )
    {
        if ( *fmt != '%' )
        {
            emit(&o, *fmt++);
            continue;
        }
        fmt = parse_spec(fmt + 1, &sp, &args);
        if ( !*fmt )
            break;
        emit_conversion(&o, &sp, *fmt++, &args);
    }
    va_end(args);
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t size;
    size_t used;
};

static void buf_sink(void *p, char c)
{
    struct buf_ctx *b = p;

    if ( b->used + 1 < b->size )
        b->buf[b->used++] = c;
}

size_t vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = { buf, size, 0 };
    size_t n = format(buf_sink, &b, fmt, ap);

    if ( size )
        buf[b.used] = '\0';
    return n;
}

size_t snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

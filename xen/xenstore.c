/*
 * The xenstore client: requests and replies over the shared ring.
 *
 * The page at start_info's store_mfn holds two byte rings of 1024 (see
 * xen/io/xs_wire.h): req[] we produce and xenstored consumes, rsp[] the
 * other way.  A message is a struct xsd_sockmsg header then len bytes of
 * payload.  Indices are free-running; a byte's place is index % 1024.
 * After moving an index we kick store_evtchn; we wait for the daemon on
 * the same port (xen/events.c: SCHEDOP_poll with a deadline).
 *
 * One request is outstanding at a time.  Its reply can arrive after
 * watch events (XS_WATCH_EVENT, unsolicited): those are queued for
 * xs_read_watch().  A timeout in the middle of a message leaves the ring
 * out of step with the daemon: the connection is then given up, and
 * every later call says so, rather than read garbage as a reply.
 */
#include <pvmm/xenstore.h>
#include <pvmm/events.h>
#include <pvmm/early_map.h>
#include <pvmm/printk.h>
#include <pvmm/time.h>
#include <pvmm/lib.h>
#include <xen/io/xs_wire.h>

#define WATCH_QUEUE     8
#define WATCH_EVENT_MAX 512     /* path and token, NUL-terminated */

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static bool broken;
static uint32_t next_req_id;

static uint8_t ring_page[PAGE_SIZE]
    __section(".bss.page_aligned") __aligned(PAGE_SIZE);

/* The watches registered, to register again on a new connection. */
#define MAX_WATCHES     8
#define WATCH_NAME_MAX  128
static struct {
    char path[WATCH_NAME_MAX], token[WATCH_NAME_MAX];
    bool used;
} registered[MAX_WATCHES];

static struct {
    char event[WATCH_QUEUE][WATCH_EVENT_MAX];
    uint32_t len[WATCH_QUEUE];
    unsigned int head, count;
    unsigned long lost;
} watches;

int xs_init(const start_info_t *si)
{
    int rc;

    if ( !si->store_mfn || (si->flags & SIF_INITDOMAIN) )
        return -XEN_ENODEV;
    rc = early_map_mfn(ring_page, _mfn(si->store_mfn), PTE_KERNEL_RW);
    if ( rc )
        return rc;
    ring = (struct xenstore_domain_interface *)ring_page;
    port = si->store_evtchn;
    return 0;
}

bool xs_available(void)
{
    return ring && !broken;
}

/* Copies len bytes into req[], waiting for room; 0 or -XEN_ETIMEDOUT. */
static int ring_write(const void *data, size_t len, uint64_t deadline)
{
    const char *p = data;
    XENSTORE_RING_IDX prod;
    size_t n;

    while ( len )
    {
        prod = ring->req_prod;
        n = XENSTORE_RING_SIZE - (prod - READ_ONCE(ring->req_cons));
        if ( !n )
        {
            if ( evtchn_wait(port, deadline) )
                return -XEN_ETIMEDOUT;
            continue;
        }
        n = MIN(n, len);
        n = MIN(n, XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod));
        memcpy(&ring->req[MASK_XENSTORE_IDX(prod)], p, n);
        wmb();                  /* the bytes before the index */
        ring->req_prod = prod + n;
        (void)evtchn_send(port);
        p += n;
        len -= n;
    }
    return 0;
}

/*
 * Takes len bytes out of rsp[], waiting for them; into data if not NULL
 * (NULL discards them).  0 or -XEN_ETIMEDOUT.
 */
static int ring_read(void *data, size_t len, uint64_t deadline)
{
    char *p = data;
    XENSTORE_RING_IDX cons;
    size_t n;

    while ( len )
    {
        cons = ring->rsp_cons;
        n = READ_ONCE(ring->rsp_prod) - cons;
        if ( !n )
        {
            if ( evtchn_wait(port, deadline) )
                return -XEN_ETIMEDOUT;
            continue;
        }
        rmb();                  /* the index before the bytes */
        n = MIN(n, len);
        n = MIN(n, XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons));
        if ( p )
        {
            memcpy(p, &ring->rsp[MASK_XENSTORE_IDX(cons)], n);
            p += n;
        }
        mb();                   /* the bytes read before the slot is reused */
        ring->rsp_cons = cons + n;
        (void)evtchn_send(port);
        len -= n;
    }
    return 0;
}

/* Waits until n bytes are in rsp[]; 0 or -XEN_ETIMEDOUT, nothing read. */
static int wait_for_bytes(size_t n, uint64_t deadline)
{
    while ( READ_ONCE(ring->rsp_prod) - ring->rsp_cons < n )
        if ( evtchn_wait(port, deadline) )
            return -XEN_ETIMEDOUT;
    return 0;
}

static void queue_watch_event(const char *payload, uint32_t len)
{
    unsigned int slot;

    if ( watches.count == WATCH_QUEUE )
    {
        watches.lost++;
        return;
    }
    slot = (watches.head + watches.count++) % WATCH_QUEUE;
    memcpy(watches.event[slot], payload, len);
    watches.len[slot] = len;
}

/* The daemon's error string as a -XEN_E* code. */
static int error_code(const char *s)
{
    static const struct { const char *name; int rc; } map[] = {
        { "ENOENT", -XEN_ENOENT }, { "EACCES", -XEN_EACCES },
        { "EEXIST", -XEN_EEXIST }, { "EINVAL", -XEN_EINVAL },
        { "ENOSPC", -XEN_ENOSPC }, { "ENOMEM", -XEN_ENOMEM },
        { "E2BIG", -XEN_E2BIG }, { "EAGAIN", -XEN_EAGAIN },
        { "EBUSY", -XEN_EBUSY }, { "EPERM", -XEN_EPERM },
        { "ENOSYS", -XEN_ENOSYS }, { "EROFS", -XEN_EROFS },
        { "EISDIR", -XEN_EISDIR }, { "ENOTEMPTY", -XEN_ENOTEMPTY },
    };
    unsigned int i;

    for ( i = 0; i < ARRAY_SIZE(map); i++ )
        if ( !strcmp(s, map[i].name) )
            return map[i].rc;
    return -XEN_EIO;
}

/*
 * Reads messages until the reply to req_id: its payload into reply (at
 * most size bytes; the rest is read and dropped, and -XEN_E2BIG
 * returned).  Watch events met on the way are queued.
 */
static long read_reply(uint32_t req_id, char *reply, size_t size,
                       uint64_t deadline)
{
    static char scratch[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg hdr;
    int rc;

    for ( ; ; )
    {
        if ( (rc = ring_read(&hdr, sizeof(hdr), deadline)) != 0 )
            return rc;
        if ( hdr.len > XENSTORE_PAYLOAD_MAX )
            return -XEN_EIO;            /* not a header: out of step */
        if ( hdr.type == XS_WATCH_EVENT || hdr.req_id != req_id )
        {
            if ( (rc = ring_read(scratch, hdr.len, deadline)) != 0 )
                return rc;
            if ( hdr.type == XS_WATCH_EVENT && hdr.len < WATCH_EVENT_MAX )
                queue_watch_event(scratch, hdr.len);
            else if ( hdr.type == XS_WATCH_EVENT )
                watches.lost++;
            continue;
        }
        if ( hdr.type == XS_ERROR )
        {
            if ( (rc = ring_read(scratch, hdr.len, deadline)) != 0 )
                return rc;
            scratch[hdr.len] = '\0';
            return error_code(scratch);
        }
        if ( hdr.len > size )
        {
            rc = ring_read(NULL, hdr.len, deadline);
            return rc ? rc : -XEN_E2BIG;
        }
        rc = ring_read(reply, hdr.len, deadline);
        return rc ? rc : (long)hdr.len;
    }
}

/*
 * One request: type, then the strings of parts, each with its NUL unless
 * it is the last of a XS_WRITE (a value is sent without one).  The
 * reply's payload length, or -XEN_E*.
 */
static long request(uint32_t type, const char *const *parts,
                    unsigned int nr, char *reply, size_t size)
{
    uint64_t deadline = time_now_ns() + XS_TIMEOUT_NS;
    struct xsd_sockmsg hdr = { .type = type, .req_id = ++next_req_id };
    size_t len[4];
    unsigned int i;
    long rc = 0;

    if ( !ring || broken )
        return ring ? -XEN_EIO : -XEN_ENODEV;
    for ( i = 0; i < nr; i++ )
    {
        len[i] = strlen(parts[i]) + !(type == XS_WRITE && i == nr - 1);
        hdr.len += len[i];
    }
    if ( hdr.len > XENSTORE_PAYLOAD_MAX )
        return -XEN_E2BIG;
    rc = ring_write(&hdr, sizeof(hdr), deadline);
    for ( i = 0; !rc && i < nr; i++ )
        rc = ring_write(parts[i], len[i], deadline);
    rc = rc ? rc : read_reply(hdr.req_id, reply, size, deadline);
    if ( rc == -XEN_ETIMEDOUT || rc == -XEN_EIO )
    {
        printk("xenstore: request type %u: %ld; giving the connection up\n",
               type, rc);
        broken = true;
    }
    return rc;
}

long xs_read(const char *path, char *buf, size_t size)
{
    const char *parts[] = { path };
    long n = size ? request(XS_READ, parts, 1, buf, size - 1) : -XEN_E2BIG;

    if ( n >= 0 )
        buf[n] = '\0';
    return n;
}

/* A request whose reply is "OK": 0 or -XEN_E*. */
static int request_ok(uint32_t type, const char *const *parts,
                      unsigned int nr)
{
    char ok[4];
    long n = request(type, parts, nr, ok, sizeof(ok));

    return n < 0 ? (int)n : 0;
}

int xs_write(const char *path, const char *value)
{
    const char *parts[] = { path, value };

    return request_ok(XS_WRITE, parts, 2);
}

int xs_rm(const char *path)
{
    const char *parts[] = { path };

    return request_ok(XS_RM, parts, 1);
}

long xs_directory(const char *path, char *buf, size_t size,
                  unsigned int *count)
{
    const char *parts[] = { path };
    long n = request(XS_DIRECTORY, parts, 1, buf, size);
    long i;

    *count = 0;
    for ( i = 0; i < n; i++ )
        *count += buf[i] == '\0';
    return n;
}

static int find_registered(const char *path, const char *token)
{
    int i;

    for ( i = 0; i < MAX_WATCHES; i++ )
        if ( registered[i].used && !strcmp(registered[i].path, path) &&
             !strcmp(registered[i].token, token) )
            return i;
    return -1;
}

/* Remembers a watch for xs_resume(); -XEN_ENOSPC if it cannot. */
static int remember_watch(const char *path, const char *token)
{
    int i;

    if ( find_registered(path, token) >= 0 )
        return 0;
    if ( strlen(path) >= WATCH_NAME_MAX || strlen(token) >= WATCH_NAME_MAX )
        return -XEN_E2BIG;
    for ( i = 0; i < MAX_WATCHES; i++ )
        if ( !registered[i].used )
        {
            memcpy(registered[i].path, path, strlen(path) + 1);
            memcpy(registered[i].token, token, strlen(token) + 1);
            registered[i].used = true;
            return 0;
        }
    return -XEN_ENOSPC;
}

int xs_watch(const char *path, const char *token)
{
    const char *parts[] = { path, token };
    int rc = remember_watch(path, token);

    if ( rc )
        return rc;          /* one a resume would lose: refused up front */
    rc = request_ok(XS_WATCH, parts, 2);
    if ( rc && rc != -XEN_EEXIST )
        registered[find_registered(path, token)].used = false;
    return rc;
}

int xs_unwatch(const char *path, const char *token)
{
    const char *parts[] = { path, token };
    int i = find_registered(path, token);

    if ( i >= 0 )
        registered[i].used = false;
    return request_ok(XS_UNWATCH, parts, 2);
}

int xs_resume(const start_info_t *si, bool new_domain)
{
    const char *parts[2];
    int i, rc, first = 0;

    if ( !ring || !new_domain )
        return 0;
    port = si->store_evtchn;
    broken = false;
    watches.count = 0;
    /* Anything half-read belonged to the old connection. */
    ring->rsp_cons = READ_ONCE(ring->rsp_prod);
    (void)evtchn_unmask(port);
    for ( i = 0; i < MAX_WATCHES; i++ )
    {
        if ( !registered[i].used )
            continue;
        parts[0] = registered[i].path;
        parts[1] = registered[i].token;
        rc = request_ok(XS_WATCH, parts, 2);
        if ( rc && !first )
            first = rc;
    }
    return first;
}

/* Copies the NUL-terminated string at s (within end) into dst. */
static int take_string(char *dst, size_t size, const char *s,
                       const char *end)
{
    size_t n = strnlen(s, end - s);

    if ( n == (size_t)(end - s) || n >= size )
        return -XEN_E2BIG;
    memcpy(dst, s, n + 1);
    return 0;
}

/* Moves the oldest queued event out; 0, or -XEN_E2BIG (it is dropped). */
static int pop_watch_event(char *path, size_t path_size, char *token,
                           size_t token_size)
{
    const char *ev = watches.event[watches.head];
    const char *end = ev + watches.len[watches.head];
    size_t plen = strnlen(ev, end - ev);
    int rc = take_string(path, path_size, ev, end);

    if ( !rc )
        rc = plen + 1 < (size_t)(end - ev)
             ? take_string(token, token_size, ev + plen + 1, end)
             : -XEN_E2BIG;
    watches.head = (watches.head + 1) % WATCH_QUEUE;
    watches.count--;
    return rc;
}

int xs_read_watch(char *path, size_t path_size, char *token,
                  size_t token_size, uint64_t deadline_ns)
{
    struct xsd_sockmsg hdr;
    static char payload[WATCH_EVENT_MAX];
    int rc;

    if ( !ring || broken )
        return ring ? -XEN_EIO : -XEN_ENODEV;
    while ( !watches.count )
    {
        /* Nothing outstanding: only watch events can come. */
        if ( (rc = wait_for_bytes(sizeof(hdr), deadline_ns)) != 0 )
            return rc;          /* nothing read: the ring is in step */
        (void)ring_read(&hdr, sizeof(hdr), deadline_ns);   /* all there */
        if ( hdr.len > XENSTORE_PAYLOAD_MAX ||
             hdr.type != XS_WATCH_EVENT || hdr.len >= WATCH_EVENT_MAX ||
             ring_read(payload, hdr.len, time_now_ns() + XS_TIMEOUT_NS) )
        {
            printk("xenstore: unexpected message type %u (%u bytes) "
                   "while waiting for a watch; giving the connection up\n",
                   hdr.type, hdr.len);
            broken = true;
            return -XEN_EIO;
        }
        queue_watch_event(payload, hdr.len);
    }
    return pop_watch_event(path, path_size, token, token_size);
}

unsigned long xs_watch_events_lost(void)
{
    return watches.lost;
}

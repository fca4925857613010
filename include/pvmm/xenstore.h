/*
 * A small xenstore client (xen/xenstore.c): the shared ring at
 * start_info's store_mfn, and its event channel, as libxl sets them up
 * for a domU.  A dom0 that Xen booted directly has no xenstored:
 * xs_available() is false and every call returns -XEN_ENODEV.
 *
 * Every call waits at most XS_TIMEOUT_NS for the daemon.  Errors are
 * -XEN_E* codes: the daemon's ("ENOENT" -> -XEN_ENOENT, ...), -XEN_E2BIG
 * for a request over the protocol's 4096 bytes or a reply that does not
 * fit the caller's buffer (the reply is consumed, never cut short and
 * passed on), -XEN_ETIMEDOUT, and -XEN_EIO once a timeout has left the
 * ring in an unknown state (the connection is then given up).
 *
 * Paths are absolute or relative to the domain's home,
 * /local/domain/<domid>.  Not locked: one vcpu.
 */
#ifndef PVMM_XENSTORE_H
#define PVMM_XENSTORE_H

#include <pvmm/types.h>
#include <pvmm/xen.h>

#define XS_TIMEOUT_NS   (10UL * 1000 * 1000 * 1000)

/* Maps the ring; 0, or -XEN_ENODEV (no store), or the mapping's error. */
int xs_init(const start_info_t *si);
bool xs_available(void);

/*
 * After a resume (docs/suspend.md).  new_domain: xenstored knows a new
 * connection on a new event channel (start_info's), with no watches;
 * the watches registered through xs_watch() are registered again, and
 * events queued before the suspend are dropped.  A cancelled suspend
 * keeps the connection.  0 or the first error of re-registering.
 */
int xs_resume(const start_info_t *si, bool new_domain);

/* The value, NUL-terminated in buf; its length, or -XEN_E*. */
long xs_read(const char *path, char *buf, size_t size);
int xs_write(const char *path, const char *value);
int xs_rm(const char *path);

/*
 * The names under path, each NUL-terminated, one after the other in buf;
 * how many in *count.  The bytes used, or -XEN_E*.
 */
long xs_directory(const char *path, char *buf, size_t size,
                  unsigned int *count);

/* Xen's xenstored fires a new watch once at once, then on each change. */
int xs_watch(const char *path, const char *token);
int xs_unwatch(const char *path, const char *token);

/*
 * The next watch event: the path that changed and the watch's token.
 * 0, -XEN_ETIMEDOUT at deadline_ns (time_now_ns()), -XEN_E2BIG if a
 * string does not fit (the event is dropped), or -XEN_E*.
 */
int xs_read_watch(char *path, size_t path_size, char *token,
                  size_t token_size, uint64_t deadline_ns);

/* Watch events dropped because the queue was full. */
unsigned long xs_watch_events_lost(void);

#endif /* PVMM_XENSTORE_H */

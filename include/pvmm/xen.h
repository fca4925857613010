/*
 * The one place the Xen public headers (Debian's libxen-dev) come in, with
 * the interface version pinned so a newer header cannot silently change a
 * structure under us.
 */
#ifndef PVMM_XEN_H
#define PVMM_XEN_H

#ifndef __XEN_INTERFACE_VERSION__
#error "__XEN_INTERFACE_VERSION__ must be set by the Makefile"
#endif

#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/version.h>
#include <xen/io/console.h>

/* Xen's error numbers, as returned (negated) by hypercalls. */
#include <xen/errno.h>

#endif /* PVMM_XEN_H */

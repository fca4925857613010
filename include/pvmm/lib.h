/*
 * The few C library functions a freestanding kernel needs.
 * (The compiler may also emit calls to memcpy/memset/memmove/memcmp.)
 */
#ifndef PVMM_LIB_H
#define PVMM_LIB_H

#include <pvmm/types.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Whole-string match of str against pattern with '*' and '?' wildcards. */
bool glob_match(const char *pattern, const char *str);

#endif /* PVMM_LIB_H */

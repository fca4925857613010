/*
 * p2m-digest CORE: reads an `xl dump-core` file (ELF64; docs/design.md,
 * "What make test runs")
 * and prints the digest of its .xen_p2m section, the (pfn, gmfn) pairs of
 * every page the toolstack dumped, in the same form the guest prints with
 * `hold` (mm/p2m_audit.c, p2m_digest):
 *
 *     P2M-DIGEST populated=N hash=HHHHHHHHHHHHHHHH
 *
 * count: number of pairs; hash: 64-bit FNV-1a over each pair as two
 * little-endian 64-bit words, in pfn order.  Built static on the build
 * host, run in the test dom0.  Exit 0, or 2 with a message.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
    uint64_t pfn, gmfn;
};

static void die(const char *what, const char *path)
{
    fprintf(stderr, "p2m-digest: %s: %s\n", path, what);
    exit(2);
}

static void *read_at(FILE *f, const char *path, long off, size_t len)
{
    void *buf = malloc(len ? len : 1);

    if ( !buf )
        die("out of memory", path);
    if ( fseek(f, off, SEEK_SET) || fread(buf, 1, len, f) != len )
        die("short read", path);
    return buf;
}

/* The .xen_p2m section's pairs; *n gets their number. */
static struct pair *load_p2m(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    Elf64_Ehdr eh;
    Elf64_Shdr *sh;
    const char *names;
    unsigned int i;
    struct pair *pairs;

    if ( !f )
        die("cannot open", path);
    if ( fread(&eh, sizeof(eh), 1, f) != 1 ||
         memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
         eh.e_ident[EI_CLASS] != ELFCLASS64 ||
         eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum )
        die("not an ELF64 core with section headers", path);
    sh = read_at(f, path, eh.e_shoff, eh.e_shnum * sizeof(*sh));
    names = read_at(f, path, sh[eh.e_shstrndx].sh_offset,
                    sh[eh.e_shstrndx].sh_size);
    for ( i = 0; i < eh.e_shnum; i++ )
        if ( sh[i].sh_name < sh[eh.e_shstrndx].sh_size &&
             !strcmp(names + sh[i].sh_name, ".xen_p2m") )
            break;
    if ( i == eh.e_shnum )
        die("no .xen_p2m section", path);
    if ( sh[i].sh_size % sizeof(struct pair) )
        die(".xen_p2m is not a whole number of (pfn, gmfn) pairs", path);
    *n = sh[i].sh_size / sizeof(struct pair);
    pairs = read_at(f, path, sh[i].sh_offset, sh[i].sh_size);
    fclose(f);
    return pairs;
}

static int by_pfn(const void *a, const void *b)
{
    uint64_t x = ((const struct pair *)a)->pfn, y = ((const struct pair *)b)->pfn;

    return x < y ? -1 : x > y;
}

static void hash_word(uint64_t *h, uint64_t w)
{
    int i;

    for ( i = 0; i < 8; i++, w >>= 8 )
    {
        *h ^= w & 0xff;
        *h *= 0x100000001b3ULL;
    }
}

int main(int argc, char **argv)
{
    uint64_t hash = 0xcbf29ce484222325ULL;
    struct pair *p;
    size_t n, i;

    if ( argc != 2 )
    {
        fprintf(stderr, "usage: p2m-digest CORE\n");
        return 2;
    }
    p = load_p2m(argv[1], &n);
    qsort(p, n, sizeof(*p), by_pfn);
    for ( i = 0; i < n; i++ )
    {
        hash_word(&hash, p[i].pfn);
        hash_word(&hash, p[i].gmfn);
    }
    printf("P2M-DIGEST populated=%zu hash=%016llx\n", n,
           (unsigned long long)hash);
    return 0;
}

#include "io/zipfile.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <zlib.h>

/* libzip validates the archive (ZIP_CHECKCONS also compares every local header with the central
 * directory) and reads compressed entries, but it has no public call that tells where an entry's
 * data starts inside the archive. To use a stored tensor storage in place we therefore walk the
 * central directory ourselves (a few fixed-size records, zip64 included), follow each entry to
 * its local header (whose variable-length "extra" field, used by torch.save to align data to 64
 * bytes, decides the data offset) and cross-check name, sizes, CRC and method against libzip's
 * view, so the two readers cannot silently disagree. */

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_EOCD64_LOCATOR 0x07064b50u
#define EOCD_SIZE 22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define MAX_COMMENT 65535

struct zipf {
    zip_t *zip;
    const uint8_t *data;
    uint64_t size;
    int count;
    zipf_entry *entries;
    char *names;               /* all entry names, NUL-terminated, one block */
    struct zipf_name *by_name; /* entries sorted by name */
};

typedef struct zipf_name {
    const char *name;
    int index;
} zipf_name;

static uint16_t rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) {
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Where the central directory is, from the (zip64) end-of-central-directory records. */
typedef struct cd_location {
    uint64_t offset, size, count;
    uint64_t end; /* first byte after the central directory: start of the EOCD record(s) */
} cd_location;

static int find_central_directory(const uint8_t *d, uint64_t size, cd_location *cd,
                                  sam2_error *err) {
    if (size < EOCD_SIZE)
        return sam2_fail(err, SAM2_ERR_FORMAT, "file too short for a zip archive");
    uint64_t lowest = size - EOCD_SIZE > MAX_COMMENT ? size - EOCD_SIZE - MAX_COMMENT : 0;
    uint64_t eocd = UINT64_MAX;
    for (uint64_t p = size - EOCD_SIZE + 1; p-- > lowest;) {
        if (rd32(d + p) == SIG_EOCD && rd16(d + p + 20) == size - p - EOCD_SIZE) {
            eocd = p;
            break;
        }
    }
    if (eocd == UINT64_MAX)
        return sam2_fail(err, SAM2_ERR_FORMAT, "no zip end-of-central-directory record");
    const uint8_t *e = d + eocd;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0)
        return sam2_fail(err, SAM2_ERR_UNSUPPORTED, "multi-disk zip archives are not supported");
    cd->count = rd16(e + 10);
    cd->size = rd32(e + 12);
    cd->offset = rd32(e + 16);
    cd->end = eocd;
    if (cd->count == 0xFFFF || cd->size == 0xFFFFFFFFu || cd->offset == 0xFFFFFFFFu) {
        if (eocd < 20 || rd32(e - 20) != SIG_EOCD64_LOCATOR)
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "zip64 end-of-central-directory locator missing");
        uint64_t rec = rd64(e - 20 + 8);
        if (rec > eocd - 20 || eocd - 20 - rec < 56 || rd32(d + rec) != SIG_EOCD64)
            return sam2_fail(err, SAM2_ERR_FORMAT, "bad zip64 end-of-central-directory record");
        cd->count = rd64(d + rec + 32);
        cd->size = rd64(d + rec + 40);
        cd->offset = rd64(d + rec + 48);
        cd->end = rec;
    }
    if (cd->offset > cd->end || cd->size > cd->end - cd->offset)
        return sam2_fail(err, SAM2_ERR_FORMAT, "zip central directory lies outside the file");
    if (cd->count > cd->size / CENTRAL_SIZE)
        return sam2_fail(err, SAM2_ERR_FORMAT, "zip central directory too short for %llu entries",
                         (unsigned long long)cd->count);
    return 0;
}

/* Zip64 extended information (extra field 0x0001): 8-byte values for exactly those of
 * size / compressed size / local header offset that are saturated in the fixed record. */
static int read_zip64_extra(const uint8_t *extra, unsigned len, uint64_t *size, uint64_t *comp,
                            uint64_t *offset) {
    unsigned p = 0;
    while (p + 4 <= len) {
        unsigned id = rd16(extra + p), n = rd16(extra + p + 2);
        if (p + 4 + n > len) return -1;
        if (id == 1) {
            const uint8_t *f = extra + p + 4;
            unsigned q = 0;
            uint64_t *fields[3] = {size, comp, offset};
            for (int i = 0; i < 3; i++) {
                if (*fields[i] != 0xFFFFFFFFu) continue;
                if (q + 8 > n) return -1;
                *fields[i] = rd64(f + q);
                q += 8;
            }
            return 0;
        }
        p += 4 + n;
    }
    return (*size == 0xFFFFFFFFu || *comp == 0xFFFFFFFFu || *offset == 0xFFFFFFFFu) ? -1 : 0;
}

static int parse_central_directory(zipf *z, const cd_location *cd, sam2_error *err) {
    const uint8_t *d = z->data;
    z->count = (int)cd->count;
    z->entries = calloc(cd->count ? cd->count : 1, sizeof *z->entries);
    z->names = malloc(cd->size + 1); /* names are shorter than their records */
    if (!z->entries || !z->names) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    uint64_t p = cd->offset, end = cd->offset + cd->size, name_pos = 0;
    for (int i = 0; i < z->count; i++) {
        if (end - p < CENTRAL_SIZE || rd32(d + p) != SIG_CENTRAL)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip central directory entry %d is corrupt", i);
        const uint8_t *h = d + p;
        unsigned name_len = rd16(h + 28), extra_len = rd16(h + 30), comment_len = rd16(h + 32);
        uint64_t rec = (uint64_t)CENTRAL_SIZE + name_len + extra_len + comment_len;
        if (end - p < rec)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip central directory entry %d is truncated",
                             i);
        zipf_entry *e = &z->entries[i];
        e->method = rd16(h + 10);
        e->encrypted = rd16(h + 8) & 1;
        e->crc = rd32(h + 16);
        e->comp_size = rd32(h + 20);
        e->size = rd32(h + 24);
        uint64_t local = rd32(h + 42);
        if (read_zip64_extra(h + CENTRAL_SIZE + name_len, extra_len, &e->size, &e->comp_size,
                             &local) != 0)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry %d: bad zip64 extra field", i);
        if (memchr(h + CENTRAL_SIZE, 0, name_len))
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry %d: NUL byte in its name", i);
        memcpy(z->names + name_pos, h + CENTRAL_SIZE, name_len);
        z->names[name_pos + name_len] = 0;
        e->name = z->names + name_pos;
        name_pos += name_len + 1;

        /* The local header repeats the name; its own extra field (torch.save's alignment
         * padding) is what decides where the data starts. */
        if (local > cd->offset || cd->offset - local < LOCAL_SIZE || rd32(d + local) != SIG_LOCAL)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry '%s': bad local header", e->name);
        unsigned lname = rd16(d + local + 26), lextra = rd16(d + local + 28);
        if (lname != name_len || cd->offset - local < (uint64_t)LOCAL_SIZE + lname + lextra ||
            memcmp(d + local + LOCAL_SIZE, e->name, name_len) != 0)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry '%s': local header disagrees",
                             e->name);
        e->data_offset = local + LOCAL_SIZE + lname + lextra;
        if (e->comp_size > cd->offset - e->data_offset)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry '%s': data runs past the directory",
                             e->name);
        p += rec;
    }
    return 0;
}

/* Both readers must describe the same entries. */
static int cross_check_libzip(zipf *z, sam2_error *err) {
    zip_int64_t n = zip_get_num_entries(z->zip, 0);
    if (n != z->count)
        return sam2_fail(err, SAM2_ERR_FORMAT, "zip directory has %d entries, libzip sees %lld",
                         z->count, (long long)n);
    for (int i = 0; i < z->count; i++) {
        zipf_entry *e = &z->entries[i];
        zip_stat_t st;
        const char *name = zip_get_name(z->zip, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!name || zip_stat_index(z->zip, (zip_uint64_t)i, ZIP_FL_ENC_RAW, &st) != 0)
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry %d unreadable: %s", i,
                             zip_strerror(z->zip));
        const zip_uint64_t need =
            ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_CRC | ZIP_STAT_COMP_METHOD;
        if (strcmp(name, e->name) != 0 || (st.valid & need) != need || st.size != e->size ||
            st.comp_size != e->comp_size || st.crc != e->crc || st.comp_method != e->method)
            return sam2_fail(err, SAM2_ERR_FORMAT,
                             "zip entry '%s': central directory and libzip disagree", e->name);
    }
    return 0;
}

static int by_name_cmp(const void *a, const void *b) {
    return strcmp(((const zipf_name *)a)->name, ((const zipf_name *)b)->name);
}

static int build_name_index(zipf *z, sam2_error *err) {
    z->by_name = malloc(sizeof *z->by_name * (z->count ? z->count : 1));
    if (!z->by_name) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
    for (int i = 0; i < z->count; i++) z->by_name[i] = (zipf_name){z->entries[i].name, i};
    qsort(z->by_name, (size_t)z->count, sizeof *z->by_name, by_name_cmp);
    for (int i = 1; i < z->count; i++)
        if (!strcmp(z->by_name[i].name, z->by_name[i - 1].name))
            return sam2_fail(err, SAM2_ERR_FORMAT, "zip archive has two entries named '%s'",
                             z->by_name[i].name);
    return 0;
}

zipf *zipf_open(const uint8_t *data, size_t size, sam2_error *err) {
    zipf *z = calloc(1, sizeof *z);
    if (!z) {
        sam2_fail(err, SAM2_ERR_NOMEM, "out of memory");
        return NULL;
    }
    z->data = data;
    z->size = size;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, size, 0, &ze);
    if (src) {
        z->zip = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
        if (!z->zip) zip_source_free(src);
    }
    if (!z->zip) {
        sam2_fail(err, SAM2_ERR_FORMAT, "libzip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        zipf_close(z);
        return NULL;
    }
    zip_error_fini(&ze);
    cd_location cd = {0};
    if (find_central_directory(data, size, &cd, err) || parse_central_directory(z, &cd, err) ||
        cross_check_libzip(z, err) || build_name_index(z, err)) {
        zipf_close(z);
        return NULL;
    }
    return z;
}

void zipf_close(zipf *z) {
    if (!z) return;
    if (z->zip) zip_discard(z->zip);
    free(z->entries);
    free(z->names);
    free(z->by_name);
    free(z);
}

int zipf_count(const zipf *z) {
    return z->count;
}

const zipf_entry *zipf_entry_at(const zipf *z, int i) {
    return i >= 0 && i < z->count ? &z->entries[i] : NULL;
}

int zipf_find(const zipf *z, const char *name) {
    int lo = 0, hi = z->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(z->by_name[mid].name, name);
        if (c == 0) return z->by_name[mid].index;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int zipf_read(zipf *z, int i, size_t max_bytes, uint8_t **out, size_t *n, sam2_error *err) {
    *out = NULL;
    *n = 0;
    const zipf_entry *e = zipf_entry_at(z, i);
    if (!e) return sam2_fail(err, SAM2_ERR_ARGUMENT, "no zip entry %d", i);
    if (e->size > max_bytes)
        return sam2_fail(err, SAM2_ERR_LIMIT, "zip entry '%s' is too large (%llu bytes, limit %zu)",
                         e->name, (unsigned long long)e->size, max_bytes);
    uint8_t *buf = malloc((size_t)e->size + 1);
    if (!buf) return sam2_fail(err, SAM2_ERR_NOMEM, "out of memory reading '%s'", e->name);
    zip_file_t *f = zip_fopen_index(z->zip, (zip_uint64_t)i, 0);
    if (!f) {
        free(buf);
        return sam2_fail(err, SAM2_ERR_FORMAT, "cannot open zip entry '%s': %s", e->name,
                         zip_strerror(z->zip));
    }
    size_t got = 0;
    for (;;) {
        /* Read one byte past the end so libzip reaches end-of-data and checks the CRC. */
        zip_int64_t r = zip_fread(f, buf + got, (zip_uint64_t)(e->size + 1 - got));
        if (r < 0) {
            sam2_fail(err, SAM2_ERR_FORMAT, "zip entry '%s' is corrupt: %s", e->name,
                      zip_file_strerror(f));
            zip_fclose(f);
            free(buf);
            return SAM2_ERR_FORMAT;
        }
        if (r == 0) break;
        got += (size_t)r;
        if (got > e->size) break;
    }
    int rc = zip_fclose(f);
    if (got != e->size || rc != 0) {
        free(buf);
        return sam2_fail(err, SAM2_ERR_FORMAT, "zip entry '%s' is corrupt (%zu of %llu bytes read)",
                         e->name, got, (unsigned long long)e->size);
    }
    buf[got] = 0;
    *out = buf;
    *n = got;
    return 0;
}

const uint8_t *zipf_stored_data(const zipf *z, int i, sam2_error *err) {
    const zipf_entry *e = zipf_entry_at(z, i);
    if (!e) {
        sam2_fail(err, SAM2_ERR_ARGUMENT, "no zip entry %d", i);
        return NULL;
    }
    if (e->encrypted) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED, "zip entry '%s' is encrypted", e->name);
        return NULL;
    }
    if (e->method != ZIP_CM_STORE || e->comp_size != e->size) {
        sam2_fail(err, SAM2_ERR_UNSUPPORTED,
                  "zip entry '%s' is compressed (method %d); torch.save stores tensor data "
                  "uncompressed",
                  e->name, e->method);
        return NULL;
    }
    return z->data + e->data_offset;
}

int zipf_check_crc(const zipf *z, int i, sam2_error *err) {
    const uint8_t *p = zipf_stored_data(z, i, err);
    if (!p) return err ? err->code : SAM2_ERR_FORMAT;
    const zipf_entry *e = &z->entries[i];
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < e->size;) {
        uint64_t chunk = e->size - done > (1u << 30) ? (1u << 30) : e->size - done;
        crc = crc32(crc, p + done, (uInt)chunk);
        done += chunk;
    }
    if ((uint32_t)crc != e->crc)
        return sam2_fail(err, SAM2_ERR_FORMAT,
                         "zip entry '%s' is corrupt (CRC-32 %08x, directory says %08x)", e->name,
                         (unsigned)crc, (unsigned)e->crc);
    return 0;
}

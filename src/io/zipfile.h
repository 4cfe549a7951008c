/* Read-only access to a zip archive held in memory (a mapped checkpoint file): libzip validates
 * the archive and reads small entries (data.pkl, version); for entries stored without
 * compression we also locate their bytes inside the buffer, so tensor storages can be used in
 * place without a copy. */
#ifndef SAM2_IO_ZIPFILE_H
#define SAM2_IO_ZIPFILE_H

#include "sam2.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zipf_entry {
    const char *name;
    uint64_t size;      /* uncompressed bytes */
    uint64_t comp_size; /* bytes in the archive */
    uint32_t crc;       /* CRC-32 of the uncompressed bytes */
    int method;         /* 0: stored, 8: deflate, ... */
    bool encrypted;
    uint64_t data_offset; /* first byte of the entry's data inside the buffer */
} zipf_entry;

typedef struct zipf zipf;

/* Opens the archive in data[size] (not copied: the buffer must outlive the zipf). Fails with
 * SAM2_ERR_FORMAT for anything that is not a consistent zip archive. */
zipf *zipf_open(const uint8_t *data, size_t size, sam2_error *err);
void zipf_close(zipf *z);

int zipf_count(const zipf *z);
const zipf_entry *zipf_entry_at(const zipf *z, int i);
/* Index of the entry with exactly this name, or -1. */
int zipf_find(const zipf *z, const char *name);

/* Reads and decompresses entry i through libzip (which checks its CRC) into a malloc'd buffer
 * with a terminating NUL byte (not counted in *n). Entries larger than max_bytes are refused. */
int zipf_read(zipf *z, int i, size_t max_bytes, uint8_t **out, size_t *n, sam2_error *err);

/* The bytes of a stored (uncompressed, unencrypted) entry inside the buffer, or NULL with an
 * error for other entries. */
const uint8_t *zipf_stored_data(const zipf *z, int i, sam2_error *err);

/* Checks the CRC-32 of a stored entry's bytes against the archive's directory. */
int zipf_check_crc(const zipf *z, int i, sam2_error *err);

#endif

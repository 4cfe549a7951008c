/* GraphQL multipart request spec (jaydenseric/graphql-multipart-request-spec), as the official
 * frontend's Relay network layer sends it: form fields "operations" (the JSON request), "map"
 * ({"<part name>": ["variables.file", ...]}) and one part per file. Files stream to temporary
 * files; at the end every mapped variable is replaced by a placeholder that the Upload scalar
 * resolves to its file. Sizes are bounded; temporary files are removed by upload_free. */
#ifndef SAM2_SERVER_UPLOAD_H
#define SAM2_SERVER_UPLOAD_H

#include "server/server_internal.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct upload_req upload_req;

/* Uploads are staged in SPILL_DIR as "sam2-upload-<pid>-XXXXXX". */
#define UPLOAD_STAGING_PREFIX "sam2-upload-"

/* tmp_dir NULL: file bytes are counted but not stored (fuzzing). */
upload_req *upload_new(const char *content_type, const char *tmp_dir, size_t max_field_bytes,
                       size_t max_total_bytes, size_t max_json_values, char *msg, size_t cap);
/* Returns 0, or -1 with upload_error()/upload_status() telling why (400 or 413). */
int upload_feed(upload_req *u, const char *data, size_t n);
int upload_finish(upload_req *u);
const char *upload_error(const upload_req *u);
int upload_status(const upload_req *u);

/* After a successful finish: the operations object (owned by u), and the file behind a
 * placeholder node (-1 when `node` is not one). */
cJSON *upload_operations(upload_req *u);
int upload_index_of(void *u, const cJSON *node);
const upload_file *upload_files(const upload_req *u, int *n);
void upload_free(upload_req *u);

/* Removes staged uploads left in dir by server processes that no longer run (killed mid-upload);
 * returns how many. */
int upload_remove_stale(const char *dir);

#endif

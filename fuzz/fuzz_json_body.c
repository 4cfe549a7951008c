/* libFuzzer target: JSON request bodies (the bounded pre-scan and strict parse) and the fields
 * of a GraphQL-over-HTTP request and a /propagate_in_video request. */
#include "server/json_body.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char msg[300];
    cJSON *v = json_body_parse((const char *)data, size, 20000, msg, sizeof msg);
    if (!v) return 0;
    const char *q, *op;
    cJSON *vars;
    if (!graphql_fields(v, &q, &vars, &op, msg, sizeof msg)) {
        (void)strlen(q);
        if (op) (void)strlen(op);
    }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(v, "session_id");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(v, "start_frame_index");
    if (cJSON_IsString(sid)) (void)strlen(sid->valuestring);
    if (cJSON_IsNumber(start) && start->valuedouble == floor(start->valuedouble) &&
        fabs(start->valuedouble) <= 1e9)
        (void)(int)start->valuedouble;
    char *text = cJSON_PrintUnformatted(v);
    cJSON_free(text);
    cJSON_Delete(v);
    return 0;
}

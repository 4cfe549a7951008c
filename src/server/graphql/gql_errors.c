#include "server/graphql/gql_errors.h"

void gql_error_add(gql_errors *e, const char *message, const gql_loc *locs, int n_locs,
                   cJSON *path) {
    if (!e->list) e->list = cJSON_CreateArray();
    cJSON *err = cJSON_CreateObject();
    if (!e->list || !err) {
        cJSON_Delete(err);
        cJSON_Delete(path);
        return;
    }
    cJSON_AddStringToObject(err, "message", message);
    if (n_locs > 0) {
        cJSON *arr = cJSON_AddArrayToObject(err, "locations");
        for (int i = 0; arr && i < n_locs; i++) {
            cJSON *l = cJSON_CreateObject();
            if (!l) break;
            cJSON_AddNumberToObject(l, "line", locs[i].line);
            cJSON_AddNumberToObject(l, "column", locs[i].column);
            cJSON_AddItemToArray(arr, l);
        }
    }
    if (path) cJSON_AddItemToObject(err, "path", path);
    cJSON_AddItemToArray(e->list, err);
    e->count++;
}

/* Field-by-field comparison of two model configurations, for the tests (names every field
 * that differs, unlike memcmp). */
#ifndef SAM2_TEST_CONFIG_COMPARE_H
#define SAM2_TEST_CONFIG_COMPARE_H

#include "model/config.h"

#include <stddef.h>

/* Number of fields (array elements count one each) that differ, name excluded; the first few
 * are described in msg. */
int config_diff(const sam2_config *a, const sam2_config *b, char *msg, size_t msg_size);

#endif

/* The eight official YAML configs (SAM 2 and SAM 2.1, t/s/b+/l) parse to exactly the eight
 * built-in presets, field by field. They are read from the golden data's verbatim copies
 * (<golden>/official-configs/{sam2,sam2.1}/, golden = $SAM2_GOLDEN or ../shared/golden), or from
 * $SAM2_REF_CONFIGS (an official checkout's configs/ folder) when set. Without the golden data
 * the test reports itself skipped; a golden folder without the configs fails it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/yaml_config.h"
#include "support/config_compare.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char configs[4096];

static void test_official_yamls_are_presets(void **state) {
    (void)state;
    static const char *files[] = {
        "sam2.1/sam2.1_hiera_t.yaml", "sam2.1/sam2.1_hiera_s.yaml", "sam2.1/sam2.1_hiera_b+.yaml",
        "sam2.1/sam2.1_hiera_l.yaml", "sam2/sam2_hiera_t.yaml",     "sam2/sam2_hiera_s.yaml",
        "sam2/sam2_hiera_b+.yaml",    "sam2/sam2_hiera_l.yaml",
    };
    int matched[8] = {0};
    for (int i = 0; i < 8; i++) {
        sam2_config parsed, preset;
        sam2_error err = {0};
        if (sam2_config_load_yaml(test_path(configs, files[i]), &parsed, &err))
            fail_msg("%s", err.message);
        int p = -1;
        for (int k = 0; k < sam2_config_preset_count(); k++)
            if (!strcmp(parsed.name, sam2_config_preset_name(k))) p = k;
        if (p < 0) fail_msg("%s: config name '%s' is no preset", files[i], parsed.name);
        matched[p]++;
        assert_int_equal(sam2_config_preset(&preset, parsed.name), 0);
        char msg[1024];
        if (config_diff(&parsed, &preset, msg, sizeof msg))
            fail_msg("%s differs from preset %s: %s", files[i], preset.name, msg);
        /* Also byte for byte: catches fields added to the struct but not to the comparison. */
        assert_memory_equal(&parsed, &preset, sizeof parsed);
    }
    for (int k = 0; k < 8; k++) assert_int_equal(matched[k], 1);
}

int main(void) {
    const char *env = getenv("SAM2_REF_CONFIGS");
    if (env && *env) {
        snprintf(configs, sizeof configs, "%s", env);
    } else {
        const char *golden = test_golden_dir();
        test_require_dir(golden, "golden data (../shared/golden or $SAM2_GOLDEN)");
        snprintf(configs, sizeof configs, "%s", test_path(golden, "official-configs"));
    }
    struct stat st;
    if (stat(test_path(configs, "sam2.1/sam2.1_hiera_t.yaml"), &st) != 0) {
        /* The golden data ships them: a golden folder without them is an error, not a skip. */
        printf("FAIL: official configs not found in %s\n", configs);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_yamls_are_presets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

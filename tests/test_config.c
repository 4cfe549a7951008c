/* Configuration presets: every official preset is consistent, and the derived Hiera block
 * layout follows the official constructor (window chosen before the stage advances). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/config.h"
#include "model/weights.h"

#include <string.h>

static void test_presets_validate(void **state) {
    (void)state;
    assert_int_equal(sam2_config_preset_count(), 9); /* eight SAM 2 / 2.1, EdgeTAM */
    for (int i = 0; i < sam2_config_preset_count(); i++) {
        sam2_config c;
        char msg[256] = "";
        assert_int_equal(sam2_config_preset(&c, sam2_config_preset_name(i)), 0);
        if (sam2_config_validate(&c, msg, sizeof msg) != 0) fail_msg("%s: %s", c.name, msg);
    }
}

static void test_preset_aliases(void **state) {
    (void)state;
    sam2_config c;
    assert_int_equal(sam2_config_preset(&c, "configs/sam2.1/sam2.1_hiera_t.yaml"), 0);
    assert_string_equal(c.name, "sam2.1_hiera_t");
    assert_int_equal(sam2_config_preset(&c, "sam2.1_hiera_base_plus.pt"), 0);
    assert_string_equal(c.name, "sam2.1_hiera_b+");
    assert_int_equal(sam2_config_preset(&c, "sam2_hiera_large"), 0);
    assert_string_equal(c.name, "sam2_hiera_l");
    assert_int_equal(sam2_config_preset(&c, "sam3_hiera_t"), -1);
    assert_int_equal(sam2_config_preset(&c, "checkpoints/edgetam.pt"), 0);
    assert_string_equal(c.name, "edgetam");
    assert_int_equal(c.trunk, SAM2_TRUNK_REPVIT);
    assert_true(c.batched_predictor);
}

static void test_tiny_blocks(void **state) {
    (void)state;
    sam2_config c;
    sam2_config_preset(&c, "sam2.1_hiera_t");
    sam2_hiera_block_info b[SAM2_MAX_BLOCKS];
    int n = sam2_config_hiera_blocks(&c, b);
    assert_int_equal(n, 12);
    /* stages [1,2,7,2]: q-pool blocks 1, 3, 10; global blocks 5, 7, 9 */
    assert_true(b[1].q_pool && b[3].q_pool && b[10].q_pool);
    assert_false(b[0].q_pool || b[2].q_pool || b[4].q_pool || b[11].q_pool);
    assert_int_equal(b[1].window, 8); /* previous stage's window */
    assert_int_equal(b[3].window, 4);
    assert_int_equal(b[4].window, 14);
    assert_int_equal(b[5].window, 0);
    assert_int_equal(b[10].window, 14);
    assert_int_equal(b[11].window, 7);
    assert_int_equal(b[11].dim_out, 768);
    assert_int_equal(b[11].heads, 8);
}

static void test_weight_counts(void **state) {
    (void)state;
    /* Parameter counts of the official checkpoints (sum of state-dict numel). */
    sam2_config c;
    int64_t n;
    sam2_config_preset(&c, "sam2.1_hiera_t");
    assert_int_equal(sam2_weights_count(&c, &n), 471);
    assert_int_equal(n, 38962754);
    /* EdgeTAM: 982 tensors, 13,943,148 elements (BatchNorm statistics and counters included) */
    sam2_config_preset(&c, "edgetam");
    assert_int_equal(sam2_weights_count(&c, &n), 982);
    assert_int_equal(n, 13943148);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_validate),
        cmocka_unit_test(test_preset_aliases),
        cmocka_unit_test(test_tiny_blocks),
        cmocka_unit_test(test_weight_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

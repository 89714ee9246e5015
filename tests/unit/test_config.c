/*
 * test_config.c — the rules file reader (broker/config.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char s_path[64];

static zb_config_t *s_load(const char *text, zb_buf_t *errors)
{
    snprintf(s_path, sizeof s_path, "/tmp/zb-test-config-%d.yaml", (int) getpid());
    FILE *f = fopen(s_path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    zb_buf_reset(errors);
    zb_config_t *cfg = config__load(s_path, errors);
    unlink(s_path);
    return cfg;
}

static void defaults_fill_what_the_file_leaves_out(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    zb_config_t *cfg = s_load("buses:\n  - name: orders\n", e);
    assert_non_null(cfg);
    assert_string_equal(cfg->listen, "tcp://127.0.0.1:7400");
    assert_string_equal(cfg->account, "000000000000");
    assert_string_equal(cfg->region, "local");
    assert_int_equal(cfg->limits.max_entries, 10);
    assert_int_equal(cfg->limits.max_entry_bytes, 262144);
    char want[80];
    snprintf(want, sizeof want, "%s.state", s_path);
    assert_string_equal(cfg->state_file, want);
    assert_int_equal(cfg->nbuses, 1);
    config__destroy(&cfg);
    assert_null(cfg);
    config__destroy(&cfg); /* safe twice */
    zb_buf_destroy(&e);
}

static void a_full_rule_is_read_with_its_targets(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    zb_config_t *cfg = s_load("broker:\n"
                              "  listen: ipc:///tmp/x\n"
                              "  limits: {max-entries-per-request: 50}\n"
                              "buses:\n"
                              "  - name: orders\n"
                              "    rules:\n"
                              "      - name: r\n"
                              "        description: hello\n"
                              "        state: DISABLED\n"
                              "        event-pattern:\n"
                              "          source: [a, 'b']\n"
                              "          detail: {n: [1, -2, 0o17, 2.50, null, false]}\n"
                              "        targets:\n"
                              "          - id: t\n"
                              "            endpoint: inproc://t\n"
                              "            high-water-mark: 7\n",
                              e);
    assert_non_null(cfg);
    assert_int_equal(cfg->limits.max_entries, 50);
    conf_rule_t *r = &cfg->buses[0].rules[0];
    assert_string_equal(r->name, "r");
    assert_string_equal(r->description, "hello");
    assert_false(r->enabled);
    assert_string_equal(r->pattern,
                        "{\"source\":[\"a\",\"b\"],\"detail\":{\"n\":[1,-2,15,2.5,null,false]}}");
    assert_int_equal(r->ntargets, 1);
    assert_string_equal(r->targets[0].type, "pub");
    assert_string_equal(r->targets[0].topic, "{rule}");
    assert_int_equal(r->targets[0].hwm, 7);
    assert_int_equal(r->targets[0].mark.line, 14);
    config__destroy(&cfg);
    zb_buf_destroy(&e);
}

static void errors_are_all_listed_with_line_and_column(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    zb_config_t *cfg = s_load("brokr: {}\n"
                              "buses:\n"
                              "  - name: a b\n"
                              "  - name: x\n"
                              "    rules:\n"
                              "      - name: r\n"
                              "        event-pattern: '{\"a\": \"notarray\"}'\n"
                              "        targets:\n"
                              "          - id: t\n"
                              "            endpoint: tcp://nohost\n"
                              "          - endpoint: inproc://x\n",
                              e);
    assert_null(cfg);
    char want[256];
    const char *expect[] = {
        "1:1: top level: unknown key 'brokr'",
        "3:11: bus name 'a b' is not valid",
        "7:24: rule r: Event pattern is not valid.",
        "10:23: bad endpoint 'tcp://nohost': expected tcp://HOST:PORT",
        "11:13: target: id is required",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        snprintf(want, sizeof want, "%s:%s", s_path, expect[i]);
        if (!strstr(e->data, want))
            fail_msg("missing \"%s\" in:\n%s", want, e->data);
    }
    zb_buf_destroy(&e);
}

static void duplicate_keys_and_bad_scalars_are_refused(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    zb_config_t *cfg = s_load("broker:\n  watch: yes\n  watch: true\n"
                              "  limits: {max-entry-bytes: lots}\n",
                              e);
    assert_null(cfg);
    assert_non_null(strstr(e->data, ":2:10: watch must be true or false"));
    assert_non_null(strstr(e->data, ":3:3: broker: duplicate key 'watch'"));
    assert_non_null(strstr(e->data, "max-entry-bytes must be an integer"));
    zb_buf_destroy(&e);
}

static void a_relative_state_file_is_relative_to_the_rules_file(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    zb_config_t *cfg = s_load("broker:\n  state-file: api.state\n", e);
    assert_non_null(cfg);
    assert_string_equal(cfg->state_file, "/tmp/api.state");
    config__destroy(&cfg);
    cfg = s_load("broker:\n  state-file: /var/x.state\n", e);
    assert_string_equal(cfg->state_file, "/var/x.state");
    config__destroy(&cfg);
    zb_buf_destroy(&e);
}

static void missing_and_empty_files_are_clear(void **state)
{
    zb_buf_t *e = zb_buf_new(64);
    assert_null(config__load("/nonexistent/rules.yaml", e));
    assert_non_null(strstr(e->data, "/nonexistent/rules.yaml: cannot open"));
    assert_null(s_load("", e));
    assert_non_null(strstr(e->data, "the file is empty"));
    zb_buf_destroy(&e);
}

static void endpoints_and_names_are_checked(void **state)
{
    char why[128];
    assert_int_equal(config__check_endpoint("tcp://127.0.0.1:1", why, sizeof why), 0);
    assert_int_equal(config__check_endpoint("tcp://*:*", why, sizeof why), 0);
    assert_int_equal(config__check_endpoint("tcp://[::1]:80", why, sizeof why), 0);
    assert_int_equal(config__check_endpoint("ipc:///tmp/a", why, sizeof why), 0);
    assert_int_equal(config__check_endpoint("inproc://a", why, sizeof why), 0);
    assert_int_equal(config__check_endpoint("tcp://h:0", why, sizeof why), -1);
    assert_int_equal(config__check_endpoint("tcp://h:65536", why, sizeof why), -1);
    assert_int_equal(config__check_endpoint("ipc://", why, sizeof why), -1);
    assert_int_equal(config__check_endpoint("http://x:1", why, sizeof why), -1);
    assert_true(config__valid_name("a.b_c-1", 7));
    assert_false(config__valid_name("a/b", 3));
    assert_false(config__valid_name("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_fill_what_the_file_leaves_out),
        cmocka_unit_test(a_full_rule_is_read_with_its_targets),
        cmocka_unit_test(errors_are_all_listed_with_line_and_column),
        cmocka_unit_test(duplicate_keys_and_bad_scalars_are_refused),
        cmocka_unit_test(a_relative_state_file_is_relative_to_the_rules_file),
        cmocka_unit_test(missing_and_empty_files_are_clear),
        cmocka_unit_test(endpoints_and_names_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * cmd_test_event_pattern.c — `zbridge test-event-pattern`, evaluated
 * locally with the broker's own matcher (no broker needed), with the AWS
 * CLI's flags:
 *
 *   zbridge test-event-pattern --event-pattern JSON --event JSON
 *
 * Either value may be file://path. Prints {"Result": true} or
 * {"Result": false} and exits 0; an invalid pattern or event prints the
 * reason to stderr and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_action.h"
#include "matcher.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: zbridge test-event-pattern --event-pattern <json> --event <json>\n\n"
            "Tests whether an event pattern matches an event, locally, with the\n"
            "broker's matcher. Both values are JSON text or file://path.\n"
            "Prints {\"Result\": true} or {\"Result\": false} (exit 0); an invalid\n"
            "pattern or event is reported on stderr (exit 1).\n");
}

int cmd_test_event_pattern(int argc, char **argv)
{
    const char *pattern_arg = NULL, *event_arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if ((strcmp(argv[i], "--event-pattern") == 0 || strcmp(argv[i], "--event") == 0) && i + 1 < argc) {
            if (argv[i][7] == '-')
                pattern_arg = argv[++i];
            else
                event_arg = argv[++i];
            continue;
        }
        fprintf(stderr, "zbridge test-event-pattern: unknown or incomplete argument '%s'\n", argv[i]);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!pattern_arg || !event_arg) {
        fprintf(stderr, "zbridge test-event-pattern: --event-pattern and --event are required\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char *pattern = cli_arg_text("--event-pattern", pattern_arg);
    if (!pattern)
        return CLI_EXIT_USAGE;
    char *event = cli_arg_text("--event", event_arg);
    if (!event) {
        free(pattern);
        return CLI_EXIT_USAGE;
    }
    int rc = 1;
    zb_matcher_error_t err;
    zb_matcher_t *m = zb_matcher_new();
    zb_match_ctx_t *ctx = zb_match_ctx_new();
    if (!m || !ctx) {
        fprintf(stderr, "zbridge test-event-pattern: out of memory\n");
        goto out;
    }
    if (zb_matcher_add(m, 1, ZB_FORMAT_JSON, pattern, strlen(pattern), &err) != 0) {
        if (err.path[0])
            fprintf(stderr, "%s (at %s)\n", err.message, err.path);
        else
            fprintf(stderr, "%s\n", err.message);
        goto out;
    }
    const uint64_t *ids;
    int n = zb_matcher_match(m, ctx, ZB_FORMAT_JSON, event, strlen(event), &ids, &err);
    if (n < 0) {
        if (err.offset >= 0)
            fprintf(stderr, "%s (at byte %ld)\n", err.message, err.offset);
        else
            fprintf(stderr, "%s\n", err.message);
        goto out;
    }
    printf("{\"Result\": %s}\n", n > 0 ? "true" : "false");
    rc = 0;
out:
    zb_match_ctx_destroy(&ctx);
    zb_matcher_destroy(&m);
    free(pattern);
    free(event);
    return rc;
}

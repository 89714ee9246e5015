/*
 * cmd_tail.c — zbridge tail: subscribe to a target's PUB endpoint and print
 * each delivered event as one line of JSON.
 *
 * One line per event and a flush after each, so `zbridge tail | jq -c ...`
 * and line-reading test harnesses see events as they arrive.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli_action.h"
#include "json.h"

#define TAIL_MAX_TOPICS 16

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

static void s_help(FILE *out)
{
    fprintf(out,
        "tail\n\n"
        "Subscribes to a target's PUB endpoint (the Endpoint given to put-targets) and\n"
        "prints each event delivered there as one line of JSON: the EventBridge\n"
        "envelope (version, id, detail-type, source, account, time, region,\n"
        "resources, detail). Runs until interrupted, or until --count events.\n\n"
        "usage: zbridge tail --endpoint <value> [--topic <prefix>]... [--count <n>]\n"
        "                    [--cli-read-timeout <secs>] [--with-topic]\n\n"
        "Options\n"
        "  --endpoint <value>          the target's PUB endpoint (required)\n"
        "  --topic <prefix>            only topics starting with this (repeatable;\n"
        "                              default: every topic)\n"
        "  --count <n>                 stop after n events\n"
        "  --cli-read-timeout <secs>   fail (exit 255) when no event arrives within this\n"
        "                              time (default: wait for ever)\n"
        "  --with-topic                print {\"topic\": ..., \"event\": {...}} per line\n"
        "  --help                      this text\n\n"
        "PUB/SUB semantics: events published before tail has connected are not seen.\n");
}

static int s_bad_value(const char *flag, const char *value)
{
    fprintf(stderr, "\nError parsing parameter '%s': invalid value: \"%s\"\n", flag,
            value ? value : "");
    return CLI_EXIT_USAGE;
}

/* Prints one event line; returns -1 when stdout is gone (a closed pipe). */
static int s_print(const zbridge_event_t *ev, bool with_topic)
{
    if (with_topic) {
        zb_buf_t *line = zb_buf_new(64 + strlen(ev->json));
        if (!line)
            return -1;
        int rc = zb_buf_append_str(line, "{\"topic\":");
        rc |= zb_json_put_string(line, ev->topic, strlen(ev->topic));
        rc |= zb_buf_appendf(line, ",\"event\":%s}", ev->json);
        if (rc == 0)
            printf("%s\n", line->data);
        zb_buf_destroy(&line);
    }
    else
        printf("%s\n", ev->json);
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

int cmd_tail(int argc, char **argv)
{
    const char *endpoint = NULL;
    const char *topics[TAIL_MAX_TOPICS];
    int ntopics = 0, read_ms = -1;
    long count = -1;
    bool with_topic = false;
    for (int i = 1; i < argc; i++) {
        /* "--flag value" and "--flag=value" both work, as for every command. */
        char flag[64];
        const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t) (eq - a) < sizeof flag) {
            snprintf(flag, sizeof flag, "%.*s", (int) (eq - a), a);
            a = flag;
            v = eq + 1;
        }
        bool takes = strcmp(a, "--endpoint") == 0 || strcmp(a, "--endpoint-url") == 0
                  || strcmp(a, "--topic") == 0 || strcmp(a, "--count") == 0
                  || strcmp(a, "--cli-read-timeout") == 0;
        if (takes && !v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "\nzbridge: error: argument %s: expected one argument\n", a);
                return CLI_EXIT_USAGE;
            }
            v = argv[++i];
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_help(stdout);
            return CLI_EXIT_OK;
        }
        else if (strcmp(a, "--with-topic") == 0)
            with_topic = true;
        else if (strcmp(a, "--endpoint") == 0 || strcmp(a, "--endpoint-url") == 0)
            endpoint = v;
        else if (strcmp(a, "--topic") == 0) {
            if (ntopics == TAIL_MAX_TOPICS) {
                fprintf(stderr, "\nzbridge: error: at most %d --topic options\n",
                        TAIL_MAX_TOPICS);
                return CLI_EXIT_USAGE;
            }
            topics[ntopics++] = v;
        }
        else if (strcmp(a, "--count") == 0) {
            char *end;
            count = strtol(v, &end, 10);
            if (*end || end == v || count <= 0)
                return s_bad_value(a, v);
        }
        else if (strcmp(a, "--cli-read-timeout") == 0) {
            char *end;
            double secs = strtod(v, &end);
            if (*end || end == v || !(secs > 0 && secs <= 86400))
                return s_bad_value(a, v);
            read_ms = (int) (secs * 1000 + 0.999);
        }
        else {
            fprintf(stderr, "\nUnknown options: %s\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!endpoint) {
        fprintf(stderr, "\nusage: zbridge tail --endpoint <value> [--topic <prefix>]... "
                        "[--count <n>]\nTo see help text, you can run:\n\n"
                        "  zbridge tail --help\n\n"
                        "zbridge: error: the following arguments are required: --endpoint\n");
        return CLI_EXIT_USAGE;
    }
    zbridge_subscriber_t *sub = zbridge_subscriber_new(endpoint, ntopics ? topics[0] : "");
    if (!sub) {
        fprintf(stderr, "\nInvalid endpoint: \"%s\" (expected transport://address)\n",
                endpoint);
        return CLI_EXIT_USAGE;
    }
    for (int t = 1; t < ntopics; t++)
        zbridge_subscriber_subscribe(sub, topics[t]);

    /* Stop cleanly on ^C or SIGTERM: the wait is interrupted and we exit 0
     * after the events already printed. */
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int code = CLI_EXIT_OK;
    long seen = 0;
    while (!s_stop && (count < 0 || seen < count)) {
        zbridge_error_t err;
        zbridge_event_t *ev = zbridge_subscriber_recv(sub, read_ms, &err);
        if (!ev) {
            if (s_stop)
                break;
            if (err.kind == ZBRIDGE_ERROR_PROTOCOL) {
                fprintf(stderr, "zbridge: skipped a message: %s\n", err.message);
                continue;
            }
            if (err.kind == ZBRIDGE_ERROR_TIMEOUT)
                fprintf(stderr, "\nRead timeout on endpoint URL: \"%s\"\n", endpoint);
            else
                fprintf(stderr, "\nzbridge: %s\n", err.message);
            code = CLI_EXIT_OTHER;
            break;
        }
        int rc = s_print(ev, with_topic);
        zbridge_event_destroy(&ev);
        if (rc != 0) {
            code = CLI_EXIT_OTHER;
            break;
        }
        seen++;
    }
    zbridge_subscriber_destroy(&sub);
    return code;
}

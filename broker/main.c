/*
 * main.c — zbridged, the zbridge broker.
 *
 * Reads the rules file, binds the ROUTER endpoint named by broker.listen,
 * logs that it is ready and serves until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <zmq.h>

#define DEFAULT_LISTEN "tcp://127.0.0.1:7400"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void) sig;
    s_stop = 1;
}

/* Finds broker.listen in the YAML document at `path` and copies it into
 * `out`. Returns 0 (out left at its default when the key is absent) or -1
 * with a message on stderr naming the file, line and column. */
static int s_read_listen(const char *path, char *out, size_t outsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "zbridged: %s: %s\n", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = 0, depth = 0, in_broker = 0, want_listen = 0, expect_key = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            fprintf(stderr, "zbridged: %s:%zu:%zu: %s\n", path,
                    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                    parser.problem ? parser.problem : "invalid YAML");
            rc = -1;
            break;
        }
        yaml_event_type_t type = ev.type;
        if (type == YAML_MAPPING_START_EVENT || type == YAML_SEQUENCE_START_EVENT) {
            depth++;
            expect_key = type == YAML_MAPPING_START_EVENT;
        }
        else if (type == YAML_MAPPING_END_EVENT || type == YAML_SEQUENCE_END_EVENT) {
            depth--;
            if (depth == 1)
                in_broker = 0;
            expect_key = 1;
        }
        else if (type == YAML_SCALAR_EVENT) {
            const char *v = (const char *) ev.data.scalar.value;
            if (want_listen) {
                snprintf(out, outsz, "%s", v);
                want_listen = 0;
            }
            else if (expect_key && depth == 1 && strcmp(v, "broker") == 0)
                in_broker = 1;
            else if (expect_key && depth == 2 && in_broker && strcmp(v, "listen") == 0)
                want_listen = 1;
            expect_key = !expect_key;
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static void s_usage(FILE *to)
{
    fprintf(to, "usage: zbridged [--config FILE]\n"
                "  --config FILE   rules file (default: rules.yaml)\n");
}

int main(int argc, char **argv)
{
    const char *config = "rules.yaml";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        else {
            s_usage(stderr);
            return 2;
        }
    }
    char listen[256] = DEFAULT_LISTEN;
    if (s_read_listen(config, listen, sizeof listen) == -1)
        return 1;

    struct sigaction sa = { .sa_handler = s_on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(router, listen) == -1) {
        fprintf(stderr, "zbridged: cannot listen on %s: %s\n", listen, zmq_strerror(errno));
        zmq_close(router);
        zmq_ctx_term(ctx);
        return 1;
    }
    fprintf(stderr, "zbridged: ready on %s (rules: %s)\n", listen, config);

    while (!s_stop) {
        zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (zmq_msg_recv(&msg, router, ZMQ_DONTWAIT) != -1 && zmq_msg_more(&msg))
            ;
        zmq_msg_close(&msg);
    }
    fprintf(stderr, "zbridged: stopping\n");
    zmq_close(router);
    zmq_ctx_term(ctx);
    return 0;
}

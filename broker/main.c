/*
 * main.c — zbridged, the zbridge broker.
 *
 *   zbridged [--config FILE] [--state FILE]   serve
 *   zbridged --check [--config FILE]          validate the rules file, exit 0 or 1
 */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "config.h"

static void s_usage(FILE *to)
{
    fprintf(to, "usage: zbridged [--config FILE] [--state FILE] [--check]\n"
                "  --config FILE   rules file (default: rules.yaml)\n"
                "  --state FILE    where API changes are kept (default: broker.state-file,\n"
                "                  else FILE.state beside the rules file)\n"
                "  --check         validate the rules file and exit: 0 valid, 1 not\n");
}

static int s_check(const char *path)
{
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors)
        return 1;
    zb_config_t *cfg = config__load(path, errors);
    int rc = 0;
    if (cfg) {
        size_t rules = 0;
        for (size_t i = 0; i < cfg->nbuses; i++)
            rules += cfg->buses[i].nrules;
        printf("%s: OK (%zu buses, %zu rules)\n", path, cfg->nbuses, rules);
    }
    else {
        fputs(errors->data, stderr);
        rc = 1;
    }
    config__destroy(&cfg);
    zb_buf_destroy(&errors);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config = "rules.yaml";
    const char *state = NULL;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        else {
            s_usage(stderr);
            return 2;
        }
    }
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (check)
        return s_check(config);
    zb_broker_t *b = broker__new(config, state, true);
    if (!b)
        return 1;
    int rc = broker__run(b);
    broker__destroy(&b);
    broker__log("stopped");
    return rc;
}

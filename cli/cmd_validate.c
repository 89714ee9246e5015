/*
 * cmd_validate.c — zbridge validate FILE: checks a rules file with the
 * broker's own loader (broker/config.c), so a file that validates here is
 * one zbridged accepts, and the messages are the ones zbridged would print.
 */
#include <stdio.h>
#include <string.h>

#include "cli_action.h"
#include "config.h"
#include "zb_buf.h"

static void s_help(FILE *out)
{
    fprintf(out,
        "validate\n\n"
        "Checks a rules file exactly as zbridged reads it at start and on reload:\n"
        "YAML syntax, the schema, names, endpoints, limits and every event pattern.\n"
        "Prints every problem as FILE:LINE:COL: message on stderr and exits 1, or\n"
        "prints a one-line summary and exits 0. Needs no broker.\n\n"
        "usage: zbridge validate FILE\n");
}

int cmd_validate(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            s_help(stdout);
            return CLI_EXIT_OK;
        }
        if (strncmp(argv[i], "--", 2) == 0 || path) {
            fprintf(stderr, "\nUnknown options: %s\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "\nusage: zbridge validate FILE\nTo see help text, you can run:\n\n"
                        "  zbridge validate --help\n\n"
                        "zbridge: error: the following arguments are required: FILE\n");
        return CLI_EXIT_USAGE;
    }
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors) {
        fprintf(stderr, "zbridge: out of memory\n");
        return CLI_EXIT_OTHER;
    }
    zb_config_t *config = config__load(path, errors);
    if (!config) {
        fputs(errors->data, stderr);
        zb_buf_destroy(&errors);
        return 1;
    }
    size_t rules = 0, targets = 0;
    for (size_t b = 0; b < config->nbuses; b++) {
        rules += config->buses[b].nrules;
        for (size_t r = 0; r < config->buses[b].nrules; r++)
            targets += config->buses[b].rules[r].ntargets;
    }
    printf("%s: OK (%zu bus%s, %zu rule%s, %zu target%s; listen %s)\n", path,
           config->nbuses, config->nbuses == 1 ? "" : "es", rules, rules == 1 ? "" : "s",
           targets, targets == 1 ? "" : "s", config->listen ? config->listen : "(default)");
    config__destroy(&config);
    zb_buf_destroy(&errors);
    return CLI_EXIT_OK;
}

/*
 * main.c — zbridge, the command-line tool, shaped after `aws events`.
 *
 *   zbridge <command> [options]
 *
 * Each command lives in its own cmd_<name>.c and is one row of the table
 * below; `zbridge --help` prints the table. Broker commands share their
 * option handling, output and errors through cli_action.h.
 */
#include <stdio.h>
#include <string.h>

#include "cli_action.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);  /* argv[0] is the command name */
    const char *summary;
} command_t;

static const command_t s_commands[] = {
    { "create-event-bus", cmd_create_event_bus, "create an event bus" },
    { "delete-event-bus", cmd_delete_event_bus, "delete an event bus with its rules" },
    { "describe-event-bus", cmd_describe_event_bus, "show an event bus" },
    { "list-event-buses", cmd_list_event_buses, "list event buses" },
    { "put-rule", cmd_put_rule, "create or update a rule" },
    { "describe-rule", cmd_describe_rule, "show a rule" },
    { "list-rules", cmd_list_rules, "list the rules of a bus" },
    { "delete-rule", cmd_delete_rule, "delete a rule" },
    { "enable-rule", cmd_enable_rule, "enable a rule" },
    { "disable-rule", cmd_disable_rule, "disable a rule" },
    { "put-targets", cmd_put_targets, "add or replace targets of a rule" },
    { "remove-targets", cmd_remove_targets, "remove targets from a rule" },
    { "list-targets-by-rule", cmd_list_targets_by_rule, "list the targets of a rule" },
    { "put-events", cmd_put_events, "put events on buses" },
    { "get-metrics", cmd_get_metrics, "show the broker's counters and latencies" },
    { "test-event-pattern", cmd_test_event_pattern, "test an event pattern against an event, locally" },
    { "tail", cmd_tail, "print the events delivered to a target, one JSON line each" },
    { "validate", cmd_validate, "check a rules file exactly as zbridged reads it" },
};

#define COMMAND_COUNT (sizeof s_commands / sizeof s_commands[0])

static void s_help(FILE *out)
{
    fprintf(out,
        "usage: zbridge <command> [options]\n\n"
        "zbridge talks to a running zbridged with the AWS CLI's `aws events` commands,\n"
        "flags and JSON (field names as in EventBridge's API). JSON arguments may be\n"
        "given inline or as file://path. `zbridge <command> --help` describes one.\n\n"
        "Commands\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-22s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\n");
    cli_globals_help(out, true);
    fprintf(out,
        "\nErrors print as the AWS CLI prints them, e.g.\n"
        "  An error occurred (ResourceNotFoundException) when calling the DescribeRule\n"
        "  operation: Rule r does not exist on EventBus default.\n"
        "Exit status: 0 ok, 252 bad parameters, 254 the broker refused the request,\n"
        "255 no connection or no reply in time.\n");
}

/* The AWS CLI takes global options before the command too (`aws
 * --endpoint-url URL events ...`). Rotates any that lead argv[1..] to the
 * end, where every command reads them. argv stays a permutation of itself. */
static void s_move_leading_globals(int argc, char **argv)
{
    static const char *const with_value[] = { "--endpoint", "--endpoint-url",
                                              "--cli-read-timeout", "--cli-connect-timeout",
                                              "--output", NULL };
    int n = 0;  /* leading global arguments */
    while (1 + n < argc && strncmp(argv[1 + n], "--", 2) == 0) {
        const char *a = argv[1 + n];
        int takes = 0;
        for (int k = 0; with_value[k]; k++)
            if (strcmp(a, with_value[k]) == 0)
                takes = 1;
        if (!takes && !strchr(a, '='))
            break;  /* --help, --version or unknown: main handles it */
        n += 1 + takes;
    }
    if (n == 0 || 1 + n >= argc)
        return;
    /* Rotate left by n: argv[1..n] go after the rest. */
    for (int r = 0; r < n; r++) {
        char *first = argv[1];
        memmove(&argv[1], &argv[2], (size_t) (argc - 2) * sizeof *argv);
        argv[argc - 1] = first;
    }
}

int main(int argc, char **argv)
{
    s_move_leading_globals(argc, argv);
    if (argc < 2) {
        s_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        s_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("zbridge %d.%d.%d\n", ZBRIDGE_VERSION_MAJOR, ZBRIDGE_VERSION_MINOR,
               ZBRIDGE_VERSION_PATCH);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(name, s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "\nzbridge: error: argument command: invalid choice: '%s'\n"
                    "To see the commands, run: zbridge --help\n", name);
    return CLI_EXIT_USAGE;
}

/*
 * cli_action.h — what the zbridge CLI's broker commands share: the global
 * options, AWS-CLI-style parameters, JSON arguments (inline or file://),
 * pretty JSON output and AWS-CLI-style errors and exit codes.
 *
 * A broker command (create-event-bus, put-rule, ...) is a table: its name,
 * the EventBridge action it runs and its parameters, each a flag mapped to
 * a request field. cli_action_run() does the rest, so each cmd_*.c file is
 * a declaration of its flags and nothing else.
 */
#ifndef ZB_CLI_ACTION_H
#define ZB_CLI_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "zb_buf.h"
#include "zbridge.h"

/* Exit codes, as the AWS CLI v2 uses them. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_USAGE 252    /* bad syntax, unknown or invalid parameter */
#define CLI_EXIT_SERVICE 254  /* the broker answered with an error */
#define CLI_EXIT_OTHER 255    /* could not connect, timed out, anything else */

typedef enum cli_param_kind {
    CLI_STR = 1,     /* one string (file://path reads it from a file) */
    CLI_JSON,        /* JSON text or file://path, sent as its msgpack value */
    CLI_BOOL,        /* --flag sends true, --no-flag false */
    CLI_INT,         /* an integer */
    CLI_STR_LIST,    /* strings after the flag, or one JSON array of strings */
} cli_param_kind_t;

typedef struct cli_param {
    const char *flag;      /* "--event-bus-name" */
    const char *field;     /* "EventBusName" */
    cli_param_kind_t kind;
    bool required;
    const char *help;      /* one line, for --help */
} cli_param_t;

typedef struct cli_command {
    const char *name;          /* "put-rule" */
    const char *action;        /* "PutRule" */
    const char *summary;       /* one paragraph, for --help */
    const cli_param_t *params; /* ends with an entry whose flag is NULL */
    /* For list actions: the reply's list field ("Rules"). Unless the user
     * pages by hand (--limit or --next-token), every page is fetched and
     * printed as one list, as the AWS CLI does. NULL: one request. */
    const char *paginate;
} cli_command_t;

/* Options every broker command takes, read from argv wherever they are. */
typedef struct cli_globals {
    const char *endpoint;  /* --endpoint / --endpoint-url, else NULL (env, default) */
    int connect_ms;        /* --cli-connect-timeout, seconds on the command line */
    int read_ms;           /* --cli-read-timeout */
    bool help;             /* --help / -h */
} cli_globals_t;

/* Runs a broker command: argv[0] is the command name. Parses the flags,
 * sends the action, prints the reply as pretty JSON on stdout (nothing for
 * an empty reply, like the AWS CLI) and returns an exit code. */
int cli_action_run(const cli_command_t *cmd, int argc, char **argv);

/* If argv[*i] is a global option, consumes it (and its value, advancing
 * *i) into `g` and returns 1; returns 0 if it is not one, and -1 after
 * printing a usage error for a global option with a bad value. */
int cli_global_option(cli_globals_t *g, int argc, char **argv, int *i);

/* Prints the global options' help, for every command's --help. */
void cli_globals_help(FILE *out, bool with_endpoint);

/* The text of an argument that may be "file://path": the file's content
 * (malloc'd) or a copy of `value`. NULL after printing an AWS-style
 * "Error parsing parameter" message naming `flag`. */
char *cli_arg_text(const char *flag, const char *value);

/* Appends `json` (compact JSON text of len bytes) to `out`, re-indented with
 * two spaces per level and ": " after keys, plus a final newline. Empty
 * objects and arrays stay "{}" and "[]". Returns 0 or -1 (memory). */
int cli_json_pretty(const char *json, size_t len, zb_buf_t *out);

/* Prints a msgpack reply as pretty JSON on `out`. An empty map prints
 * nothing. Returns 0 or -1. */
int cli_print_reply(FILE *out, const void *reply, size_t len);

/* Prints `err` on stderr the way the AWS CLI does and returns the matching
 * exit code: "An error occurred (Code) when calling the Action operation:
 * Message" for a broker error, the endpoint message for a connection or
 * read timeout. */
int cli_print_error(const zbridge_error_t *err, const char *action);

/* The broker commands, one per cmd_*.c file. argv[0] is the command name. */
int cmd_create_event_bus(int argc, char **argv);
int cmd_delete_event_bus(int argc, char **argv);
int cmd_describe_event_bus(int argc, char **argv);
int cmd_list_event_buses(int argc, char **argv);
int cmd_put_rule(int argc, char **argv);
int cmd_describe_rule(int argc, char **argv);
int cmd_list_rules(int argc, char **argv);
int cmd_delete_rule(int argc, char **argv);
int cmd_enable_rule(int argc, char **argv);
int cmd_disable_rule(int argc, char **argv);
int cmd_put_targets(int argc, char **argv);
int cmd_remove_targets(int argc, char **argv);
int cmd_list_targets_by_rule(int argc, char **argv);
int cmd_put_events(int argc, char **argv);
int cmd_get_metrics(int argc, char **argv);
/* zbridge's own */
int cmd_tail(int argc, char **argv);
int cmd_validate(int argc, char **argv);
/* Local: the matcher, no broker (cmd_test_event_pattern.c). */
int cmd_test_event_pattern(int argc, char **argv);

#endif

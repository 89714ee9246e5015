/*
 * cmd_put_rule.c — zbridge put-rule: the PutRule action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, true,
      "the rule: 1 to 64 of [A-Za-z0-9._-]" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--event-pattern", "EventPattern", CLI_STR, false,
      "the event pattern, JSON text (required for a new rule)" },
    { "--state", "State", CLI_STR, false,
      "ENABLED (default) or DISABLED" },
    { "--description", "Description", CLI_STR, false,
      "free text kept with the rule" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "put-rule", "PutRule",
    "Creates a rule, or updates the fields given of an existing one. Prints "
    "its ARN.",
    s_params,
    NULL,
};

int cmd_put_rule(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

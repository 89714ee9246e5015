/*
 * cmd_enable_rule.c — zbridge enable-rule: the EnableRule action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, true,
      "the rule" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "enable-rule", "EnableRule",
    "Enables a rule: it matches events again.",
    s_params,
    NULL,
};

int cmd_enable_rule(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

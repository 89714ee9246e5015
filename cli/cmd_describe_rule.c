/*
 * cmd_describe_rule.c — zbridge describe-rule: the DescribeRule action.
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
    "describe-rule", "DescribeRule",
    "Shows a rule: its pattern, state, description and ARN.",
    s_params,
    NULL,
};

int cmd_describe_rule(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

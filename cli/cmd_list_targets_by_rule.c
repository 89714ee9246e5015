/*
 * cmd_list_targets_by_rule.c — zbridge list-targets-by-rule: the ListTargetsByRule action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--rule", "Rule", CLI_STR, true,
      "the rule" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--limit", "Limit", CLI_INT, false,
      "at most this many per page" },
    { "--next-token", "NextToken", CLI_STR, false,
      "the NextToken of the previous page" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "list-targets-by-rule", "ListTargetsByRule",
    "Lists the targets of a rule.",
    s_params,
    "Targets",
};

int cmd_list_targets_by_rule(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

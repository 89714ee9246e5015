/*
 * cmd_list_rules.c — zbridge list-rules: the ListRules action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--name-prefix", "NamePrefix", CLI_STR, false,
      "only rules whose name starts with this" },
    { "--limit", "Limit", CLI_INT, false,
      "at most this many per page" },
    { "--next-token", "NextToken", CLI_STR, false,
      "the NextToken of the previous page" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "list-rules", "ListRules",
    "Lists the rules of an event bus.",
    s_params,
    "Rules",
};

int cmd_list_rules(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

/*
 * cmd_remove_targets.c — zbridge remove-targets: the RemoveTargets action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--rule", "Rule", CLI_STR, true,
      "the rule" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--ids", "Ids", CLI_STR_LIST, true,
      "target ids, space separated or as a JSON array" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "remove-targets", "RemoveTargets",
    "Removes targets from a rule by Id.",
    s_params,
    NULL,
};

int cmd_remove_targets(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

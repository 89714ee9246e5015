/*
 * cmd_delete_rule.c — zbridge delete-rule: the DeleteRule action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, true,
      "the rule" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--force", "Force", CLI_BOOL, false,
      "delete the rule with its targets" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "delete-rule", "DeleteRule",
    "Deletes a rule. A rule that still has targets is refused unless "
    "--force is given.",
    s_params,
    NULL,
};

int cmd_delete_rule(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

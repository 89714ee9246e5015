/*
 * cmd_put_targets.c — zbridge put-targets: the PutTargets action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--rule", "Rule", CLI_STR, true,
      "the rule" },
    { "--event-bus-name", "EventBusName", CLI_STR, false,
      "the bus the rule is on (default: default)" },
    { "--targets", "Targets", CLI_JSON, true,
      "JSON array of {\"Id\", \"Type\": \"pub\", \"Endpoint\", \"Topic\"?, \"HighWaterMark\"?}" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "put-targets", "PutTargets",
    "Adds targets to a rule, or replaces those with the same Id. A pub "
    "target is a PUB socket the broker binds at Endpoint; subscribers "
    "connect to it (see zbridge tail).",
    s_params,
    NULL,
};

int cmd_put_targets(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

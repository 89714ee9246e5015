/*
 * cmd_describe_event_bus.c — zbridge describe-event-bus: the DescribeEventBus action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, false,
      "the bus (default: default)" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "describe-event-bus", "DescribeEventBus",
    "Shows an event bus: its name, ARN and description.",
    s_params,
    NULL,
};

int cmd_describe_event_bus(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

/*
 * cmd_create_event_bus.c — zbridge create-event-bus: the CreateEventBus action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, true,
      "the new bus: 1 to 64 of [A-Za-z0-9._-]" },
    { "--description", "Description", CLI_STR, false,
      "free text kept with the bus" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "create-event-bus", "CreateEventBus",
    "Creates an event bus. Prints its ARN.",
    s_params,
    NULL,
};

int cmd_create_event_bus(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

/*
 * cmd_delete_event_bus.c — zbridge delete-event-bus: the DeleteEventBus action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name", "Name", CLI_STR, true,
      "the bus to delete" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "delete-event-bus", "DeleteEventBus",
    "Deletes an event bus with its rules and targets. The bus default "
    "cannot be deleted.",
    s_params,
    NULL,
};

int cmd_delete_event_bus(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

/*
 * cmd_put_events.c — zbridge put-events: the PutEvents action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--entries", "Entries", CLI_JSON, true,
      "JSON array of {\"Source\", \"DetailType\", \"Detail\" (JSON text), "
      "\"Resources\"?, \"Time\"?, \"EventBusName\"?}" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "put-events", "PutEvents",
    "Puts events on event buses. Prints an EventId or an ErrorCode per "
    "entry; a partly failed batch still exits 0, as with the AWS CLI: check "
    "FailedEntryCount.",
    s_params,
    NULL,
};

int cmd_put_events(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

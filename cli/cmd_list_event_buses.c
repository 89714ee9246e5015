/*
 * cmd_list_event_buses.c — zbridge list-event-buses: the ListEventBuses action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { "--name-prefix", "NamePrefix", CLI_STR, false,
      "only buses whose name starts with this" },
    { "--limit", "Limit", CLI_INT, false,
      "at most this many (1 to 100) per page" },
    { "--next-token", "NextToken", CLI_STR, false,
      "the NextToken of the previous page" },
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "list-event-buses", "ListEventBuses",
    "Lists the event buses.",
    s_params,
    "EventBuses",
};

int cmd_list_event_buses(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

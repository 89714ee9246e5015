/*
 * cmd_get_metrics.c — zbridge get-metrics: the GetMetrics action.
 */
#include "cli_action.h"

static const cli_param_t s_params[] = {
    { NULL, NULL, 0, false, NULL },
};

static const cli_command_t s_command = {
    "get-metrics", "GetMetrics",
    "Shows the broker's counters and latencies per bus, rule and target "
    "(zbridge's own action).",
    s_params,
    NULL,
};

int cmd_get_metrics(int argc, char **argv)
{
    return cli_action_run(&s_command, argc, argv);
}

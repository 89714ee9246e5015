/*
 * producer.c — put events on a zbridge bus with libzbridge.
 *
 *   producer [BROKER_ENDPOINT]
 *
 * BROKER_ENDPOINT defaults to $ZBRIDGE_ENDPOINT, else tcp://127.0.0.1:7400.
 * Puts two OrderPlaced events in one batch and prints one line per entry:
 * its EventId, or its ErrorCode and ErrorMessage. Exits 1 if any failed.
 *
 * Build: cc producer.c $(pkg-config --cflags --libs libzbridge)
 */
#include <stdio.h>
#include <zbridge.h>

int main(int argc, char **argv)
{
    zbridge_client_t *client = zbridge_client_new(argc > 1 ? argv[1] : NULL);
    if (!client) {
        fprintf(stderr, "producer: bad endpoint\n");
        return 1;
    }
    const char *resources[] = { "arn:example:shop:order/1" };
    zbridge_entry_t entries[] = {
        { .source = "com.example.shop", .detail_type = "OrderPlaced",
          .detail = "{\"order\": 1, \"total\": 42.5, \"country\": \"NL\"}",
          .resources = resources, .resource_count = 1 },
        { .source = "com.example.shop", .detail_type = "OrderPlaced",
          .detail = "{\"order\": 2, \"total\": 7, \"country\": \"FR\"}" },
    };
    zbridge_entry_result_t results[2];
    zbridge_error_t err;
    int failed = zbridge_client_put_events(client, entries, 2, results, &err);
    if (failed < 0) {
        fprintf(stderr, "producer: PutEvents failed: %s: %s\n", err.code, err.message);
        zbridge_client_destroy(&client);
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        if (results[i].event_id[0])
            printf("%s\n", results[i].event_id);
        else
            printf("%s: %s\n", results[i].error_code, results[i].error_message);
    }
    zbridge_client_destroy(&client);
    return failed ? 1 : 0;
}

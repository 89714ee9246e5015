/*
 * subscriber.c — receive the events delivered to a zbridge target.
 *
 *   subscriber TARGET_ENDPOINT [COUNT]
 *
 * TARGET_ENDPOINT is the Endpoint of a pub target (put-targets). Prints one
 * line per event, "<topic> <source> <detail-type> <detail JSON>", and stops
 * after COUNT events (default: never). Exits 1 when no event arrives for
 * 10 seconds.
 *
 * Build: cc subscriber.c $(pkg-config --cflags --libs libzbridge)
 */
#include <stdio.h>
#include <stdlib.h>
#include <zbridge.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: subscriber TARGET_ENDPOINT [COUNT]\n");
        return 2;
    }
    long count = argc > 2 ? atol(argv[2]) : -1;
    zbridge_subscriber_t *sub = zbridge_subscriber_new(argv[1], "");  /* every topic */
    if (!sub) {
        fprintf(stderr, "subscriber: bad endpoint %s\n", argv[1]);
        return 1;
    }
    int rc = 0;
    for (long n = 0; count < 0 || n < count; n++) {
        zbridge_error_t err;
        zbridge_event_t *ev = zbridge_subscriber_recv(sub, 10000, &err);
        if (!ev) {
            fprintf(stderr, "subscriber: %s\n", err.message);
            rc = 1;
            break;
        }
        printf("%s %s %s %s\n", ev->topic, ev->source, ev->detail_type, ev->detail);
        fflush(stdout);
        zbridge_event_destroy(&ev);
    }
    zbridge_subscriber_destroy(&sub);
    return rc;
}

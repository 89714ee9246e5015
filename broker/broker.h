/*
 * broker.h — zbridged's life cycle: start, serve, reload, stop.
 */
#ifndef ZB_BROKER_BROKER_H
#define ZB_BROKER_BROKER_H

#include "broker-t.h"

/* Loads the rules file and the state file, opens every target and binds
 * the request endpoint. `state_path` overrides broker.state-file (may be
 * NULL). Returns NULL with the problems written to stderr. Without
 * `serve` nothing is bound, no signal is touched and API changes are not
 * saved (tests, the fuzzer):
 * only broker__handle is then usable. With it, SIGINT,
 * SIGTERM and SIGHUP are blocked in the calling thread (and so in
 * ZeroMQ's threads) and read through a signalfd by broker__run. */
zb_broker_t *broker__new(const char *config_path, const char *state_path, bool serve);

/* Destroys the broker: closes targets (letting PUB sockets flush for up to
 * broker.shutdown-linger-ms) and frees everything. */
void broker__destroy(zb_broker_t **self_p);

/* Serves requests until SIGINT or SIGTERM. SIGHUP (and, with
 * broker.watch, a change of the file) reloads the rules file. Returns 0. */
int broker__run(zb_broker_t *b);

/* Re-reads the rules file and the state file and swaps the result in.
 * Returns 0, or -1 (errors logged) with the old rules still serving. */
int broker__reload(zb_broker_t *b);

/* Handles one request body: decodes it, runs its action and leaves the
 * reply in b->reply. For the event loop and the fuzzer. A PutEvents
 * request's deliveries may stay staged in the outbox (outbox.h) until
 * broker__flush; any other action hands staged ones over first. */
void broker__handle(zb_broker_t *b, const void *body, size_t len);

/* Hands every staged delivery to its target (outbox.h). The event loop
 * calls it at the end of each burst, before sending the burst's replies. */
void broker__flush(zb_broker_t *b);

/* Logs one line to stderr, prefixed "zbridged: ". */
void broker__log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif

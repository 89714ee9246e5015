/*
 * loop.c — the event loop: signals, requests in, replies out, reloads.
 *
 * One thread does everything. ZeroMQ's I/O thread moves bytes to and from
 * the network; this thread decodes, matches and publishes. Because the
 * loop handles one request at a time, a reload or an API change happens
 * between two requests: no event is ever half-way through when the rules
 * change.
 */
#include "broker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "backlog.h"
#include "bus.h"
#include "handlers.h"
#include "ingest.h"
#include "metrics.h"
#include "outbox.h"
#include "plugin.h"
#include "state.h"
#include "target.h"
#include "target_pub.h"

/* Requests handled per wake-up before signals are looked at again: keeps
 * SIGTERM responsive under a flood while amortising zmq_poll. */
#define BATCH 1024
/* A burst's replies wait (after their deliveries) at most this many, and
 * this many bytes, at a time, and its staged deliveries hold at most about
 * MAX_OUTBOX_BYTES: beyond any of them the burst is flushed early. */
#define MAX_PENDING_REPLIES 256
#define MAX_PENDING_REPLY_BYTES (4u << 20)
#define MAX_OUTBOX_BYTES (4u << 20)

/* A reply held until its burst's deliveries are handed over: the route
 * frames as they came, then the body. */
struct pending_reply {
    zmq_msg_t parts[ZB_PROTO_MAX_ROUTE_FRAMES + 1];
    int n;
};

void broker__log(const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "zbridged: %s\n", line);
}

static void s_log_errors(const char *what, const zb_buf_t *errors)
{
    broker__log("%s:", what);
    fputs(errors->data, stderr);
}

/* ==== requests ================================================================ */

/* Re-applies the saved API changes onto b->reg (which may be a registry
 * being built for a reload). Failures are warnings: see state.h. */
static void s_replay(zb_broker_t *b)
{
    b->replaying = true;
    for (size_t i = 0; i < state__count(b->state); i++) {
        size_t len;
        const void *op = state__op(b->state, i, &len);
        zb_request_t req;
        zb_proto_error_t err;
        handler_fn fn;
        zb_buf_reset(b->reply);
        if (zb_request_decode(&req, op, len, &err) == -1 || !zb_action_is_mutation(req.action)
            || !(fn = handlers__for(req.action))) {
            broker__log("%s: change %zu is not a valid request; skipped", state__path(b->state),
                        i + 1);
            continue;
        }
        b->replay_change = i + 1;
        if (fn(b, &req, b->reply, &err) == -1)
            broker__log("%s: change %zu (%s) no longer applies: %s", state__path(b->state),
                        i + 1, zb_action_name(req.action), err.message);
    }
    zb_buf_reset(b->reply);
    b->replaying = false;
}

/* Builds a registry from cfg plus the saved API changes. On success the
 * broker serves it (b->cfg = cfg, b->reg = the new registry) and the old
 * registry and config are destroyed; on failure nothing changes. */
static int s_install(zb_broker_t *b, zb_config_t *cfg)
{
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors)
        return -1;
    zb_registry_t *reg = registry__from_config(b, cfg, errors);
    if (!reg) {
        s_log_errors("rules refused", errors);
        zb_buf_destroy(&errors);
        return -1;
    }
    zb_buf_destroy(&errors);
    zb_config_t *old_cfg = b->cfg;
    zb_registry_t *old_reg = b->reg;
    b->cfg = cfg;
    b->reg = reg;
    s_replay(b);
    if (old_reg) {
        registry__carry_metrics(reg, old_reg);
        registry__destroy(b, &old_reg);
    }
    if (old_cfg != cfg)
        config__destroy(&old_cfg);
    target_pub__sweep(b);
    return 0;
}

/* True when the saved changes hold `req` already: the same fields with
 * the same bytes, RequestId aside. */
static bool s_saved_already(zb_broker_t *b, const zb_request_t *req)
{
    size_t nfields = 0;
    for (int i = 0; i < req->map.count; i++)
        nfields += !(req->map.fields[i].key_len == 9
                     && memcmp(req->map.fields[i].key, "RequestId", 9) == 0);
    for (size_t i = state__count(b->state); i-- > 0;) {
        size_t len;
        const void *op = state__op(b->state, i, &len);
        zb_map_t m;
        if (zb_map_decode(&m, op, len, NULL) == -1)
            continue;
        size_t same = 0, other = 0;
        for (int k = 0; k < m.count; k++) {
            const zb_field_t *f = &m.fields[k];
            if (f->key_len == 9 && memcmp(f->key, "RequestId", 9) == 0)
                continue;
            other++;
            for (int j = 0; j < req->map.count; j++) {
                const zb_field_t *g = &req->map.fields[j];
                if (g->key_len == f->key_len && memcmp(g->key, f->key, f->key_len) == 0
                    && g->val_len == f->val_len && memcmp(g->val, f->val, f->val_len) == 0) {
                    same++;
                    break;
                }
            }
        }
        if (same == nfields && other == nfields)
            return true;
    }
    return false;
}

/* After a mutation: save it (folded into what is saved, see state.h), or
 * undo it by rebuilding without it. A change that did nothing is not saved:
 * a client repeating a request (or failing to remove what is not there)
 * must not grow the file. The reply tells the fold which targets failed. */
static void s_persist(zb_broker_t *b, const zb_request_t *req, const void *body, size_t len)
{
    if (b->nothing_done || (b->unchanged && s_saved_already(b, req)))
        return;
    char why[512];
    if (state__record(b->state, body, len, b->reply->data, b->reply->len, why, sizeof why) == 0)
        return;
    broker__log("cannot save an API change: %s; undoing it", why);
    s_install(b, b->cfg);
    zb_buf_reset(b->reply);
    char msg[700];
    snprintf(msg, sizeof msg, "The change could not be saved (%s), so it was not applied.", why);
    zb_reply_error(b->reply, req, ZB_ERR_INTERNAL, msg);
}

void broker__handle(zb_broker_t *b, const void *body, size_t len)
{
    zb_request_t req;
    zb_proto_error_t err;
    zb_buf_reset(b->reply);
    ingest__start(b);
    if ((int64_t) len > b->cfg->limits.max_request_bytes) {
        snprintf(err.message, sizeof err.message,
                 "Request of %zu bytes exceeds the limit of %lld bytes (max-request-bytes).", len,
                 (long long) b->cfg->limits.max_request_bytes);
        zb_reply_error(b->reply, NULL, ZB_ERR_LIMIT_EXCEEDED, err.message);
        return;
    }
    /* PutEvents' entries are read in the pass that checks the request. */
    zb_value_reader_t reader = { "Entries", 7, ZB_ACTION_PUT_EVENTS, ingest__read_entries, b };
    if (zb_request_decode_with(&req, body, len, &reader, &err) == -1) {
        zb_reply_error(b->reply, req.request_id ? &req : NULL, err.code, err.message);
        return;
    }
    /* Only PutEvents leaves deliveries staged: anything else may close a
     * target or drop a rule they point to, or report counters that must
     * include them. */
    if (req.action != ZB_ACTION_PUT_EVENTS)
        broker__flush(b);
    handler_fn fn = handlers__for(req.action);
    bool mutation = zb_action_is_mutation(req.action);
    if (mutation && b->persist
        && state__count(b->state) >= ZB_STATE_MAX_CHANGES) {
        snprintf(err.message, sizeof err.message,
                 "%d changes are saved in %s, the most kept; fold them into the rules file "
                 "and delete the state file.",
                 ZB_STATE_MAX_CHANGES, state__path(b->state));
        zb_reply_error(b->reply, &req, ZB_ERR_LIMIT_EXCEEDED, err.message);
        return;
    }
    /* Checked before applying, so there is nothing to undo. The file is
     * rewritten whole on every change: its size bounds that work too. */
    if (mutation && b->persist
        && (int64_t) (state__bytes(b->state) + len) > b->cfg->limits.max_state_bytes) {
        snprintf(err.message, sizeof err.message,
                 "The saved changes in %s would exceed %lld bytes (max-state-bytes); fold "
                 "them into the rules file and delete the state file.",
                 state__path(b->state), (long long) b->cfg->limits.max_state_bytes);
        zb_reply_error(b->reply, &req, ZB_ERR_LIMIT_EXCEEDED, err.message);
        return;
    }
    b->nothing_done = b->unchanged = false;
    if (fn(b, &req, b->reply, &err) == -1) {
        zb_buf_reset(b->reply);
        zb_reply_error(b->reply, &req, err.code, err.message);
    } else if (mutation && !b->replaying && b->persist)
        s_persist(b, &req, body, len);
    /* Saved or undone: only now may sockets no target names be closed. */
    if (mutation && !b->replaying)
        target_pub__sweep(b);
    if (outbox__bytes(b->outbox) > MAX_OUTBOX_BYTES)
        broker__flush(b);
}

void broker__flush(zb_broker_t *b)
{
    outbox__flush(b->outbox, b);
}

/* Sends the replies held for this burst, in the order their requests came,
 * after what earlier bursts left in the backlog (backlog.h). */
static void s_send_replies(zb_broker_t *b)
{
    backlog__retry(b->backlog, b->router);
    for (size_t r = 0; r < b->nreplies; r++)
        backlog__send(b->backlog, b->router, b->replies[r].parts, b->replies[r].n,
                      (size_t) b->cfg->limits.queue_bytes);
    b->nreplies = 0;
    b->reply_bytes = 0;
}

/* Ends a burst: deliveries first, then the replies that acknowledge them. */
static void s_flush_burst(zb_broker_t *b)
{
    broker__flush(b);
    s_send_replies(b);
}

/* Reads one whole message from the router and answers it. Returns 0, or -1
 * when no message is waiting. Precondition: b->nreplies is below
 * MAX_PENDING_REPLIES (a full burst was flushed). */
static int s_serve_one(zb_broker_t *b)
{
    /* The route goes back as it came (identity, REQ's empty delimiter...),
     * after this burst's deliveries: its frames are received straight into
     * the reply's slot, so none is moved or closed here. The body is the
     * last frame; the reply then takes its place. */
    pending_reply_t *p = &b->replies[b->nreplies];
    zmq_msg_t spill; /* frames past the most a route may have */
    int n = 0;
    bool overflow = false;
    for (;;) {
        zmq_msg_t *m = n < ZB_PROTO_MAX_ROUTE_FRAMES + 1 ? &p->parts[n] : &spill;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, b->router, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close(m);
            /* Only the first frame can be missing: a message arrives whole. */
            for (int i = 0; i < n; i++)
                zmq_msg_close(&p->parts[i]);
            return -1;
        }
        bool more = zmq_msg_more(m);
        if (m != &spill)
            n++;
        else {
            overflow = true;
            zmq_msg_close(m);
        }
        if (!more)
            break;
    }
    if (overflow || n < 2) {
        /* Too many route frames to answer safely: drop it. */
        for (int i = 0; i < n; i++)
            zmq_msg_close(&p->parts[i]);
        return 0;
    }
    zmq_msg_t *body = &p->parts[n - 1];
    broker__handle(b, zmq_msg_data(body), zmq_msg_size(body));
    zmq_msg_close(body);
    p->n = n - 1;
    if (zmq_msg_init_size(&p->parts[p->n], b->reply->len) == 0) {
        memcpy(zmq_msg_data(&p->parts[p->n]), b->reply->data, b->reply->len);
        p->n++;
        b->nreplies++;
        b->reply_bytes += b->reply->len;
    } else {
        for (int i = 0; i < p->n; i++) /* no memory for the reply: drop it */
            zmq_msg_close(&p->parts[i]);
    }
    if (b->nreplies == MAX_PENDING_REPLIES || b->reply_bytes > MAX_PENDING_REPLY_BYTES)
        s_flush_burst(b);
    return 0;
}

/* Serves up to BATCH requests, until the queue runs dry. (No spinning
 * for more: on a small machine the spin steals the CPU that ZeroMQ's I/O
 * thread needs to bring the next request in.) */
static void s_serve_burst(zb_broker_t *b)
{
    for (int i = 0; i < BATCH && s_serve_one(b) == 0; i++)
        ;
    s_flush_burst(b);
}

/* ==== life cycle ============================================================== */

static void s_stamp_mtime(zb_broker_t *b)
{
    struct stat st;
    if (stat(b->config_path, &st) == 0) {
        b->config_mtime = st.st_mtim.tv_sec;
        b->config_mtime_ns = st.st_mtim.tv_nsec;
    }
}

int broker__reload(zb_broker_t *b)
{
    broker__flush(b); /* staged deliveries point into the live registry */
    broker__log("reloading %s", b->config_path);
    s_stamp_mtime(b);
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors)
        return -1;
    zb_config_t *cfg = config__load(b->config_path, errors);
    if (!cfg) {
        s_log_errors("reload refused; the previous rules keep serving", errors);
        zb_buf_destroy(&errors);
        return -1;
    }
    zb_buf_destroy(&errors);
    if (strcmp(cfg->listen, b->cfg->listen) != 0)
        broker__log("broker.listen changed to %s: that takes a restart; still serving %s",
                    cfg->listen, b->cfg->listen);
    bool same_plugins = cfg->nplugins == b->cfg->nplugins;
    for (size_t i = 0; same_plugins && i < cfg->nplugins; i++)
        same_plugins = strcmp(cfg->plugins[i].path, b->cfg->plugins[i].path) == 0;
    if (!same_plugins)
        broker__log("broker.plugins changed: that takes a restart; the loaded plugins stay");
    /* Settings bound at start stay as they were until a restart. */
    free(cfg->listen);
    cfg->listen = strdup(b->cfg->listen);
    if (!cfg->listen || s_install(b, cfg) == -1) {
        broker__log("reload refused; the previous rules keep serving");
        config__destroy(&cfg);
        return -1;
    }
    broker__log("reloaded %s", b->config_path);
    return 0;
}

zb_broker_t *broker__new(const char *config_path, const char *state_path, bool serve)
{
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors)
        return NULL;
    zb_config_t *cfg = config__load(config_path, errors);
    if (!cfg) {
        fputs(errors->data, stderr);
        zb_buf_destroy(&errors);
        return NULL;
    }
    zb_broker_t *b = calloc(1, sizeof *b);
    if (!b) {
        config__destroy(&cfg);
        zb_buf_destroy(&errors);
        return NULL;
    }
    b->sigfd = -1;
    b->persist = serve;
    b->config_path = strdup(config_path);
    b->cfg = cfg;
    b->started_ns = metrics__now_ns();
    zb_uuid7_init(&b->uuid);
    b->reply = zb_buf_new(4096);
    b->entries = zb_buf_new(4096);
    b->topic = zb_buf_new(256);
    b->outbox = outbox__new();
    b->backlog = backlog__new();
    b->replies = calloc(MAX_PENDING_REPLIES, sizeof *b->replies);
    b->mctx = zb_match_ctx_new();
    b->state = state__new(state_path ? state_path : cfg->state_file);
    if (serve) {
        /* Block the signals before ZeroMQ starts its threads, so they
         * inherit the mask and every signal reaches our signalfd. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        b->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    b->zctx = zmq_ctx_new();
    if (!b->config_path || !b->reply || !b->entries || !b->topic || !b->outbox
        || !b->backlog || !b->replies || !b->mctx
        || !b->state || !b->zctx || (serve && b->sigfd == -1)) {
        broker__log("cannot start: %s", strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    target__host_init(b);
    if (target_pub__init(b) == -1) {
        broker__log("cannot start: %s", strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    zb_buf_reset(errors);
    if (plugin__load_all(b, cfg, errors) == -1) {
        fputs(errors->data, stderr);
        goto fail;
    }
    if (state__load(b->state, errors) == -1) {
        fputs(errors->data, stderr);
        goto fail;
    }
    zb_buf_destroy(&errors);
    /* s_install takes cfg over; a refusal leaves it with the caller. */
    b->cfg = NULL;
    if (s_install(b, cfg) == -1) {
        b->cfg = cfg;
        goto fail;
    }
    s_stamp_mtime(b);
    if (serve) {
        b->router = zmq_socket(b->zctx, ZMQ_ROUTER);
        /* Replies wait here for peers that may never read them: as many
         * per peer as requests may queue, each bounded in size (pages
         * and RequestId, see zb_proto.h). Mandatory: a full queue is
         * reported, not a reply silently dropped, and the reply waits in
         * the backlog (backlog.h). */
        int linger = 1000, sndhwm = ZB_REPLY_QUEUE_MESSAGES, rcvhwm = 1000, mandatory = 1;
        /* A peer sending far beyond the request limit is cut off by ZeroMQ
         * rather than buffered whole (memory); up to twice the limit it
         * gets a clear LimitExceededException and stays connected. */
        int64_t maxmsg = b->cfg->limits.max_request_bytes * 2 + 65536;
        if (!b->router || zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger) == -1
            || zmq_setsockopt(b->router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) == -1
            || zmq_setsockopt(b->router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) == -1
            || zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) == -1
            || zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory) == -1
            || zmq_bind(b->router, b->cfg->listen) == -1) {
            broker__log("cannot listen on %s: %s", b->cfg->listen, zmq_strerror(errno));
            goto fail;
        }
    }
    return b;
fail:
    zb_buf_destroy(&errors);
    broker__destroy(&b);
    return NULL;
}

/* At shutdown: held replies get as long as the PUB queues do
 * (shutdown-linger-ms) to find room, then the rest are dropped, said. */
static void s_drain_backlog(zb_broker_t *b)
{
    uint64_t deadline = metrics__now_ns() + (uint64_t) b->cfg->linger_ms * 1000000u;
    while (backlog__retry(b->backlog, b->router) > 0 && metrics__now_ns() < deadline)
        zmq_poll(NULL, 0, 1);
    size_t left = backlog__held(b->backlog);
    if (left)
        broker__log("stopping with %zu replies unsent: their clients did not read them", left);
}

void broker__destroy(zb_broker_t **self_p)
{
    zb_broker_t *b = *self_p;
    if (!b)
        return;
    /* Whatever was accepted is handed over before its targets close. */
    if (b->outbox)
        broker__flush(b);
    if (b->router) {
        s_send_replies(b);
        s_drain_backlog(b);
        zmq_close(b->router);
    }
    registry__destroy(b, &b->reg);
    plugin__unload_all(b);
    target_pub__cleanup(b);
    if (b->zctx)
        zmq_ctx_term(b->zctx);
    if (b->sigfd != -1)
        close(b->sigfd);
    config__destroy(&b->cfg);
    state__destroy(&b->state);
    zb_match_ctx_destroy(&b->mctx);
    zb_buf_destroy(&b->reply);
    zb_buf_destroy(&b->entries);
    zb_buf_destroy(&b->topic);
    outbox__destroy(&b->outbox);
    backlog__destroy(&b->backlog);
    ingest__cleanup(b);
    free(b->replies);
    free(b->config_path);
    free(b);
    *self_p = NULL;
}

/* Returns the signal read, or 0. */
static int s_read_signal(zb_broker_t *b)
{
    struct signalfd_siginfo si;
    ssize_t r = read(b->sigfd, &si, sizeof si);
    return r == (ssize_t) sizeof si ? (int) si.ssi_signo : 0;
}

static bool s_file_changed(zb_broker_t *b)
{
    struct stat st;
    if (stat(b->config_path, &st) == -1)
        return false;
    return st.st_mtim.tv_sec != b->config_mtime || st.st_mtim.tv_nsec != b->config_mtime_ns;
}

int broker__run(zb_broker_t *b)
{
    broker__log("ready on %s (rules: %s, state: %s)", b->cfg->listen, b->config_path,
                state__path(b->state));
    uint64_t last_check = metrics__now_ns();
    int retry_ms = 1;
    for (;;) {
        zmq_pollitem_t items[2] = {
            { b->router, 0, ZMQ_POLLIN, 0 },
            { NULL, b->sigfd, ZMQ_POLLIN, 0 },
        };
        /* Held replies are retried on a timer: a peer's queue gaining
         * room is not an event zmq_poll reports. Every millisecond while
         * they move; backing off to 64 ms while a peer reads nothing. */
        size_t held = backlog__held(b->backlog);
        int rc = zmq_poll(items, 2, held ? retry_ms : b->cfg->watch ? 500 : -1);
        if (rc == -1 && errno != EINTR) {
            broker__log("poll failed: %s", zmq_strerror(errno));
            break;
        }
        if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
            int sig = s_read_signal(b);
            if (sig == SIGINT || sig == SIGTERM) {
                broker__log("stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
                break;
            }
            if (sig == SIGHUP)
                broker__reload(b);
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
            s_serve_burst(b);
        else if (held)
            retry_ms = backlog__retry(b->backlog, b->router) < held ? 1
                       : retry_ms < 64                              ? retry_ms * 2
                                                                    : 64;
        if (b->cfg->watch && metrics__now_ns() - last_check > 500000000ull) {
            last_check = metrics__now_ns();
            if (s_file_changed(b))
                broker__reload(b);
        }
    }
    /* Every accepted event was handed to its PUB sockets before its reply;
     * broker__destroy closes them with linger so their queues drain. */
    return 0;
}

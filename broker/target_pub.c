/*
 * target_pub.c — the built-in `pub` target kind. See target_pub.h.
 *
 * Written only against the target ABI (zbridge_plugin.h), as an external
 * plugin would be: the broker reaches it through b->pub_kind.ops.
 */
#include "target_pub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

/* One bound PUB socket, shared by every target naming its endpoint. The
 * open target handle is the socket entry itself, reference-counted. An
 * entry whose count drops to 0 stays bound until target_pub__sweep: a
 * change that fails to save is undone by rebuilding the registry, and the
 * rebuilt targets must find their sockets still bound (a closed TCP port
 * stays busy for a moment, so a fresh bind would fail and the targets be
 * lost). */
typedef struct pub_socket {
    char *endpoint;
    void *sock;
    int refs;
    struct pub_socket *next;
} pub_socket_t;

struct pub_pool {
    void *zctx;
    int linger_ms;
    size_t max_sockets; /* distinct endpoints; see target_pub__max */
    pub_socket_t *head;
};

/* Sockets in the pool, those waiting for the sweep included (they still
 * hold their descriptors). */
static size_t s_count(const pub_pool_t *pool)
{
    size_t n = 0;
    for (const pub_socket_t *s = pool->head; s; s = s->next)
        n++;
    return n;
}

static int s_validate(void *pd, const zb_target_config_t *c, char *err, size_t errlen)
{
    if (!c->endpoint || !*c->endpoint) {
        snprintf(err, errlen, "Endpoint is required for a pub target.");
        return -1;
    }
    return 0;
}

/* Binding ipc://PATH makes libzmq unlink whatever is at PATH first. An
 * endpoint can come from any client through PutTargets, so without this
 * check a request could destroy a file the broker may write (its rules
 * file, say) or steal a socket another listener serves (the broker's own
 * request endpoint spelled "ipc:///d//x.sock"). Binding is allowed only
 * where nothing is, or where a socket is left over with nobody listening.
 * Returns 0, or -1 with the reason in err. */
static int s_ipc_path_free(const char *endpoint, char *err, size_t errlen)
{
    const char *path = endpoint + strlen("ipc://");
    if (path[0] == '@')
        return 0; /* Linux abstract namespace: no file behind it */
    struct stat st;
    if (lstat(path, &st) == -1)
        return 0; /* nothing there (or unreachable: bind will say) */
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "cannot bind %s: the path exists and is not a socket", endpoint);
        return -1;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return 0; /* bind refuses it anyway */
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1)
        return 0;
    int live = connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
    close(fd);
    if (live) {
        snprintf(err, errlen, "cannot bind %s: another listener serves that socket", endpoint);
        return -1;
    }
    return 0;
}

static int s_open(void *pd, const zb_target_config_t *c, void **target, char *err, size_t errlen)
{
    pub_pool_t *pool = pd;
    if (s_validate(pd, c, err, errlen) == -1)
        return -1;
    for (pub_socket_t *s = pool->head; s; s = s->next)
        if (strcmp(s->endpoint, c->endpoint) == 0) {
            /* Kept across reloads and replacements; a changed mark applies
             * to subscribers that connect from now on (ZeroMQ sets it per
             * connection). */
            int hwm = (int) c->high_water_mark;
            zmq_setsockopt(s->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
            s->refs++; /* revives an entry waiting for the sweep, too */
            *target = s;
            return 0;
        }
    if (strncmp(c->endpoint, "ipc://", 6) == 0 && s_ipc_path_free(c->endpoint, err, errlen) == -1)
        return -1;
    if (s_count(pool) >= pool->max_sockets) {
        snprintf(err, errlen,
                 "cannot bind %s: %zu pub endpoints are open, the most allowed "
                 "(max-pub-endpoints)",
                 c->endpoint, pool->max_sockets);
        return -1;
    }
    pub_socket_t *s = calloc(1, sizeof *s);
    if (!s || !(s->endpoint = strdup(c->endpoint))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->sock = zmq_socket(pool->zctx, ZMQ_PUB);
    int hwm = (int) c->high_water_mark;
    /* Linger lets shutdown flush what was accepted; reloads close sockets
     * only when no target names their endpoint any more. */
    int linger = pool->linger_ms;
    if (!s->sock || zmq_setsockopt(s->sock, ZMQ_SNDHWM, &hwm, sizeof hwm) == -1
        || zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof linger) == -1
        || zmq_bind(s->sock, c->endpoint) == -1) {
        snprintf(err, errlen, "cannot bind %s: %s", c->endpoint, zmq_strerror(errno));
        if (s->sock)
            zmq_close(s->sock);
        free(s->endpoint);
        free(s);
        return -1;
    }
    s->refs = 1;
    s->next = pool->head;
    pool->head = s;
    *target = s;
    return 0;
}

static zb_deliver_result_t s_deliver(void *target, const zb_event_t *ev)
{
    pub_socket_t *s = target;
    /* PUB never blocks: with a full queue it drops for that subscriber. */
    if (zmq_send(s->sock, ev->topic, ev->topic_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return ZB_DELIVER_FAILED;
    if (zmq_send(s->sock, ev->envelope, ev->envelope_len, ZMQ_DONTWAIT) == -1)
        return ZB_DELIVER_FAILED;
    return ZB_DELIVER_OK;
}

static void s_close(void *pd, void **target)
{
    (void) pd;
    pub_socket_t *s = *target;
    *target = NULL;
    if (s)
        s->refs--; /* closed by target_pub__sweep when no target revives it */
}

static const zb_target_ops_t s_ops = {
    .size = sizeof(zb_target_ops_t),
    .type = "pub",
    .validate = s_validate,
    .open = s_open,
    .deliver = s_deliver,
    .close = s_close,
};

/* Each bound endpoint costs two descriptors (its listener and the socket's
 * mailbox) plus one per subscriber. Unless broker.limits says otherwise,
 * a quarter of what RLIMIT_NOFILE leaves after a reserve goes to
 * endpoints, so their subscribers, request clients and state saves still
 * find descriptors: without a bound, PutTargets could use them all and
 * the broker could neither accept clients nor save its state. */
#define S_FD_RESERVE 256

static size_t s_max_sockets(const zb_config_t *cfg)
{
    if (cfg && cfg->limits.max_pub_endpoints > 0)
        return (size_t) cfg->limits.max_pub_endpoints;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY
        || rl.rlim_cur > 4000000)
        return 1000000;
    size_t nofile = (size_t) rl.rlim_cur;
    return nofile > S_FD_RESERVE + 4 ? (nofile - S_FD_RESERVE) / 4 : 1;
}

int target_pub__init(zb_broker_t *b)
{
    pub_pool_t *pool = calloc(1, sizeof *pool);
    if (!pool)
        return -1;
    pool->zctx = b->zctx;
    pool->linger_ms = b->cfg ? (int) b->cfg->linger_ms : 2000;
    pool->max_sockets = s_max_sockets(b->cfg);
    b->pub_pool = pool;
    b->pub_kind.ops = &s_ops;
    b->pub_kind.plugin_data = pool;
    return 0;
}

void target_pub__cleanup(zb_broker_t *b)
{
    pub_pool_t *pool = b->pub_pool;
    if (!pool)
        return;
    while (pool->head) {
        pub_socket_t *s = pool->head;
        pool->head = s->next;
        zmq_close(s->sock);
        free(s->endpoint);
        free(s);
    }
    free(pool);
    b->pub_pool = NULL;
}

void target_pub__sweep(zb_broker_t *b)
{
    pub_pool_t *pool = b->pub_pool;
    if (!pool)
        return;
    for (pub_socket_t **pp = &pool->head; *pp;) {
        pub_socket_t *s = *pp;
        if (s->refs > 0) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        zmq_close(s->sock);
        free(s->endpoint);
        free(s);
    }
}

size_t target_pub__max(const zb_broker_t *b)
{
    return b->pub_pool ? b->pub_pool->max_sockets : 0;
}

bool target_pub__is_bound(const zb_broker_t *b, const char *endpoint)
{
    for (pub_socket_t *s = b->pub_pool ? b->pub_pool->head : NULL; s; s = s->next)
        if (strcmp(s->endpoint, endpoint) == 0)
            return true;
    return false;
}

size_t target_pub__bound(const zb_broker_t *b)
{
    return b->pub_pool ? s_count(b->pub_pool) : 0;
}

size_t target_pub__sockets(const zb_broker_t *b)
{
    size_t n = 0;
    for (pub_socket_t *s = b->pub_pool ? b->pub_pool->head : NULL; s; s = s->next)
        n += s->refs > 0;
    return n;
}

/*
 * state_fold.c — folding a new API change into the saved ones. See
 * state_fold.h for the contract and the folds.
 *
 * Every saved request becomes an item: its current bytes (the input's, or
 * a rewrite kept in a scratch buffer) and, when its key says it may concern
 * the new request's bus, its action and the bus and rule it names (pointing
 * into its bytes). Folds mark items dropped or rewrite them; the survivors
 * are then written out in order. Requests about other buses are never
 * decoded: a fold costs a pass over the keys plus work on one bus.
 */
#include "state_fold.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers.h"
#include "mpk.h"
#include "zb_proto.h"

/* A request in a PutTargets/RemoveTargets holds at most 100 ids. */
#define MAX_IDS 100

typedef struct s_name {
    const char *s;
    uint32_t len;
} s_name_t;

typedef struct s_item {
    const uint8_t *data; /* the bytes as given */
    size_t len;
    size_t rw_off;       /* the rewrite in scratch, when rewritten */
    size_t rw_len;
    bool rewritten;
    bool dropped;
    bool keyed;          /* bus (and rule, for rule actions) resolved */
    zb_action_t action;
    s_name_t bus, rule;
} s_item_t;

typedef struct s_fold {
    s_item_t *items;
    size_t n;            /* items; the new request is items[n - 1] */
    zb_buf_t *scratch;
    zb_buf_t *tmp;
    bool oom;
} s_fold_t;

/* ==== names ===================================================================== */

static bool s_name_eq(s_name_t a, s_name_t b)
{
    return a.len == b.len && memcmp(a.s, b.s, a.len) == 0;
}

static bool s_is_rule_action(zb_action_t a)
{
    return a == ZB_ACTION_PUT_RULE || a == ZB_ACTION_DELETE_RULE || a == ZB_ACTION_ENABLE_RULE
           || a == ZB_ACTION_DISABLE_RULE || a == ZB_ACTION_PUT_TARGETS
           || a == ZB_ACTION_REMOVE_TARGETS;
}

static bool s_is_bus_action(zb_action_t a)
{
    return a == ZB_ACTION_CREATE_EVENT_BUS || a == ZB_ACTION_DELETE_EVENT_BUS;
}

/* A valid name field, as handle__name reads it (the bus's ARN narrowed). */
static bool s_name(const zb_map_t *m, const char *key, const char *dflt, s_name_t *out)
{
    const char *s;
    uint32_t len;
    int rc = zb_map_get_str(m, key, &s, &len);
    if (rc == 1 && dflt) {
        out->s = dflt;
        out->len = (uint32_t) strlen(dflt);
        return true;
    }
    if (rc != 0)
        return false;
    if (strcmp(key, "EventBusName") == 0)
        handle__strip_arn(&s, &len);
    if (!config__valid_name(s, len))
        return false;
    out->s = s;
    out->len = len;
    return true;
}

static uint64_t s_hash(s_name_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (uint32_t i = 0; i < n.len; i++)
        h = (h ^ (uint8_t) n.s[i]) * 1099511628211ull;
    return h | 1; /* never 0 */
}

static void s_key(s_item_t *it)
{
    zb_request_t req;
    if (zb_request_decode(&req, it->data, it->len, NULL) == -1)
        return;
    it->action = req.action;
    if (s_is_bus_action(req.action))
        it->keyed = s_name(&req.map, "Name", NULL, &it->bus);
    else if (s_is_rule_action(req.action)) {
        const char *rkey = req.action == ZB_ACTION_PUT_TARGETS
                                   || req.action == ZB_ACTION_REMOVE_TARGETS
                               ? "Rule"
                               : "Name";
        it->keyed = s_name(&req.map, "EventBusName", "default", &it->bus)
                    && s_name(&req.map, rkey, NULL, &it->rule);
    }
}

void state_fold_key(const void *op, size_t len, state_key_t *key)
{
    s_item_t it = {.data = op, .len = len};
    s_key(&it);
    key->bus = it.keyed ? s_hash(it.bus) : 0;
}

/* ==== item bytes and rewrites ==================================================== */

static const uint8_t *s_bytes(const s_fold_t *f, const s_item_t *it, size_t *len)
{
    if (it->rewritten) {
        *len = it->rw_len;
        return (const uint8_t *) f->scratch->data + it->rw_off;
    }
    *len = it->len;
    return it->data;
}

/* The item's current map. Its fields point into scratch or the input:
 * valid until the next rewrite. */
static int s_map(const s_fold_t *f, const s_item_t *it, zb_map_t *m)
{
    size_t len;
    const uint8_t *p = s_bytes(f, it, &len);
    return zb_map_decode(m, p, len, NULL);
}

static bool s_present(const zb_field_t *fld)
{
    return fld && !(fld->val_len == 1 && fld->val[0] == 0xc0); /* nil is absent */
}

typedef struct s_kv {
    const char *key;
    const uint8_t *val;
    size_t val_len;
} s_kv_t;

static bool s_in(const char *key, uint32_t klen, const s_kv_t *kv, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(kv[i].key) == klen && memcmp(kv[i].key, key, klen) == 0)
            return true;
    return false;
}

/* Rewrites `it` as its map without the keys of del[0..ndel) and with
 * add[0..nadd) appended. The new map is built in tmp before it goes to
 * scratch, so `add` may point anywhere, scratch included. */
static void s_rewrite(s_fold_t *f, s_item_t *it, const s_kv_t *del, int ndel, const s_kv_t *add,
                      int nadd)
{
    zb_map_t m;
    if (f->oom || s_map(f, it, &m) == -1)
        return;
    zb_buf_t *t = f->tmp;
    zb_buf_reset(t);
    uint32_t count = (uint32_t) nadd;
    for (int i = 0; i < m.count; i++)
        count += !s_in(m.fields[i].key, m.fields[i].key_len, del, ndel);
    int rc = zb_mpk_put_map(t, count);
    for (int i = 0; i < m.count && rc == 0; i++) {
        const zb_field_t *fld = &m.fields[i];
        if (s_in(fld->key, fld->key_len, del, ndel))
            continue;
        rc = zb_mpk_put_str(t, fld->key, fld->key_len);
        if (rc == 0)
            rc = zb_buf_append(t, fld->val, fld->val_len);
    }
    for (int i = 0; i < nadd && rc == 0; i++) {
        rc = zb_put_cstr(t, add[i].key);
        if (rc == 0)
            rc = zb_buf_append(t, add[i].val, add[i].val_len);
    }
    size_t off = f->scratch->len;
    if (rc == -1 || zb_buf_append(f->scratch, t->data, t->len) == -1) {
        f->oom = true;
        return;
    }
    it->rewritten = true;
    it->rw_off = off;
    it->rw_len = t->len;
}

/* ==== rules ====================================================================== */

static const char *const s_rule_fields[] = {"EventPattern", "Description", "State"};
#define NRULE_FIELDS 3

static const uint8_t s_enabled[] = {0xa7, 'E', 'N', 'A', 'B', 'L', 'E', 'D'};
static const uint8_t s_disabled[] = {0xa8, 'D', 'I', 'S', 'A', 'B', 'L', 'E', 'D'};

static bool s_same_rule(const s_item_t *a, const s_item_t *b)
{
    return a->keyed && b->keyed && s_is_rule_action(a->action) && s_name_eq(a->bus, b->bus)
           && s_name_eq(a->rule, b->rule);
}

/* Where the requests that act on `nw`'s rule as it now exists begin: after
 * the last delete of the rule and the last create or delete of its bus. */
static size_t s_scope(const s_fold_t *f, const s_item_t *nw)
{
    size_t start = 0;
    for (size_t i = 0; i + 1 < f->n; i++) {
        const s_item_t *it = &f->items[i];
        if (it->dropped || !it->keyed)
            continue;
        if ((it->action == ZB_ACTION_DELETE_RULE && s_same_rule(it, nw))
            || (s_is_bus_action(it->action) && s_name_eq(it->bus, nw->bus)))
            start = i + 1;
    }
    return start;
}

/* PutRule / EnableRule / DisableRule: see state_fold.h. */
static void s_fold_rule_fields(s_fold_t *f, s_item_t *nw)
{
    s_kv_t set[NRULE_FIELDS];
    int nset = 0;
    zb_map_t nm;
    if (nw->action == ZB_ACTION_PUT_RULE) {
        if (s_map(f, nw, &nm) == -1)
            return;
        for (int k = 0; k < NRULE_FIELDS; k++) {
            const zb_field_t *fld = zb_map_get(&nm, s_rule_fields[k]);
            if (s_present(fld))
                set[nset++] = (s_kv_t) {s_rule_fields[k], fld->val, fld->val_len};
        }
        if (nset == 0) {
            nw->dropped = true; /* sets nothing: changes nothing */
            return;
        }
    }
    else {
        bool on = nw->action == ZB_ACTION_ENABLE_RULE;
        set[nset++] = (s_kv_t) {"State", on ? s_enabled : s_disabled,
                                on ? sizeof s_enabled : sizeof s_disabled};
    }
    bool sets_state = s_in("State", 5, set, nset);
    s_item_t *first = NULL;
    for (size_t i = s_scope(f, nw); i + 1 < f->n && !f->oom; i++) {
        s_item_t *it = &f->items[i];
        if (it->dropped || !s_same_rule(it, nw))
            continue;
        if (it->action == ZB_ACTION_ENABLE_RULE || it->action == ZB_ACTION_DISABLE_RULE) {
            if (sets_state)
                it->dropped = true;
            continue;
        }
        if (it->action != ZB_ACTION_PUT_RULE)
            continue;
        if (!first) {
            first = it;
            continue;
        }
        /* A later PutRule keeps only the fields nw does not set again. */
        s_rewrite(f, it, set, nset, NULL, 0);
        zb_map_t m;
        bool left = false;
        if (s_map(f, it, &m) == 0)
            for (int k = 0; k < NRULE_FIELDS; k++)
                left |= s_present(zb_map_get(&m, s_rule_fields[k]));
        else
            left = true;
        if (!left)
            it->dropped = true;
    }
    if (!first)
        return;
    /* nw's values (in its own bytes, which no fold of a PutRule, EnableRule
     * or DisableRule rewrites) move into the rule's first PutRule. */
    s_rewrite(f, first, set, nset, set, nset);
    nw->dropped = true;
}

/* DeleteRule: every earlier request on the rule goes. */
static void s_fold_delete_rule(s_fold_t *f, s_item_t *nw)
{
    bool any = false;
    for (size_t i = 0; i + 1 < f->n; i++) {
        s_item_t *it = &f->items[i];
        if (!it->dropped && s_same_rule(it, nw)) {
            it->dropped = true;
            any = true;
        }
    }
    zb_map_t m;
    bool force = false;
    if (any && s_map(f, nw, &m) == 0 && zb_map_get_bool(&m, "Force", &force) != -1 && !force) {
        static const uint8_t yes = 0xc3;
        s_kv_t kv = {"Force", &yes, 1};
        s_rewrite(f, nw, &kv, 1, &kv, 1);
    }
}

/* DeleteEventBus: every earlier request on the bus or its rules goes. */
static void s_fold_delete_bus(s_fold_t *f, s_item_t *nw)
{
    for (size_t i = 0; i + 1 < f->n; i++) {
        s_item_t *it = &f->items[i];
        if (!it->dropped && it->keyed && s_name_eq(it->bus, nw->bus))
            it->dropped = true;
    }
}

/* ==== targets ==================================================================== */

typedef struct s_ids {
    s_name_t id[MAX_IDS];
    int n;
} s_ids_t;

static bool s_ids_has(const s_ids_t *ids, s_name_t id)
{
    for (int i = 0; i < ids->n; i++)
        if (s_name_eq(ids->id[i], id))
            return true;
    return false;
}

static int s_ids_count(const s_ids_t *ids, s_name_t id)
{
    int c = 0;
    for (int i = 0; i < ids->n; i++)
        c += s_name_eq(ids->id[i], id);
    return c;
}

static void s_ids_add(s_ids_t *ids, s_name_t id)
{
    if (ids->n < MAX_IDS)
        ids->id[ids->n++] = id;
}

/* The Id of one PutTargets entry, when it is a valid name. */
static bool s_entry_id(const uint8_t *val, size_t len, s_name_t *id)
{
    zb_map_t m;
    return zb_map_decode(&m, val, len, NULL) == 0 && s_name(&m, "Id", NULL, id);
}

/* The TargetIds of a PutTargets reply's FailedEntries. */
static void s_failed_ids(const void *reply, size_t len, s_ids_t *out)
{
    out->n = 0;
    zb_map_t m;
    if (!reply || zb_map_decode(&m, reply, len, NULL) == -1)
        return;
    const zb_field_t *fe = zb_map_get(&m, "FailedEntries");
    if (!fe)
        return;
    zb_mpk_t c;
    uint32_t n;
    zb_mpk_init(&c, fe->val, fe->val_len);
    if (zb_mpk_read_array(&c, &n) == -1)
        return;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *v = c.p;
        if (zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH) == -1)
            return;
        zb_map_t e;
        s_name_t id;
        if (zb_map_decode(&e, v, (size_t) (c.p - v), NULL) == 0
            && zb_map_get_str(&e, "TargetId", &id.s, &id.len) == 0)
            s_ids_add(out, id);
    }
}

/* Rewrites the array field `key` of `it` keeping the elements keep() accepts.
 * Returns how many are left (-1: not an array, left as it is). */
static int s_filter_array(s_fold_t *f, s_item_t *it, const char *key,
                          bool (*keep)(const uint8_t *val, size_t len, const void *arg),
                          const void *arg)
{
    zb_map_t m;
    if (s_map(f, it, &m) == -1)
        return -1;
    const zb_field_t *fld = zb_map_get(&m, key);
    zb_mpk_t c;
    uint32_t n;
    if (!fld)
        return -1;
    zb_mpk_init(&c, fld->val, fld->val_len);
    if (zb_mpk_read_array(&c, &n) == -1)
        return -1;
    zb_buf_t *arr = zb_buf_new(fld->val_len + 8);
    if (!arr) {
        f->oom = true;
        return -1;
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *v = c.p;
        zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH); /* checked by zb_map_decode */
        if (keep(v, (size_t) (c.p - v), arg)) {
            kept++;
            if (zb_buf_append(arr, v, (size_t) (c.p - v)) == -1)
                f->oom = true;
        }
    }
    if (kept < n && kept > 0 && !f->oom) {
        zb_buf_t *val = zb_buf_new(arr->len + 8);
        if (!val || zb_mpk_put_array(val, kept) == -1
            || zb_buf_append(val, arr->data, arr->len) == -1)
            f->oom = true;
        else {
            s_kv_t kv = {key, (const uint8_t *) val->data, val->len};
            s_rewrite(f, it, &kv, 1, &kv, 1);
        }
        zb_buf_destroy(&val);
    }
    zb_buf_destroy(&arr);
    return (int) kept;
}

static bool s_keep_entry(const uint8_t *val, size_t len, const void *arg)
{
    s_name_t id;
    return !s_entry_id(val, len, &id) || !s_ids_has(arg, id);
}

static bool s_keep_id(const uint8_t *val, size_t len, const void *arg)
{
    zb_mpk_t c;
    s_name_t id;
    zb_mpk_init(&c, val, len);
    return zb_mpk_read_str(&c, &id.s, &id.len) == -1 || !s_ids_has(arg, id);
}

/* The entries of nw that applied: a failed entry (unless its id is given
 * twice, so which one failed is unknown) and one without a valid Id go. */
typedef struct s_strip {
    const s_ids_t *failed;
    const s_ids_t *given;
} s_strip_t;

static bool s_keep_applied(const uint8_t *val, size_t len, const void *arg)
{
    const s_strip_t *st = arg;
    s_name_t id;
    if (!s_entry_id(val, len, &id))
        return false;
    return !s_ids_has(st->failed, id) || s_ids_count(st->given, id) > 1;
}

/* Removes `ids` from the earlier PutTargets/RemoveTargets of nw's rule. */
static void s_supersede_targets(s_fold_t *f, s_item_t *nw, const s_ids_t *ids)
{
    if (ids->n == 0)
        return;
    for (size_t i = s_scope(f, nw); i + 1 < f->n && !f->oom; i++) {
        s_item_t *it = &f->items[i];
        if (it->dropped || !s_same_rule(it, nw))
            continue;
        int left = -1;
        if (it->action == ZB_ACTION_PUT_TARGETS)
            left = s_filter_array(f, it, "Targets", s_keep_entry, ids);
        else if (it->action == ZB_ACTION_REMOVE_TARGETS)
            left = s_filter_array(f, it, "Ids", s_keep_id, ids);
        if (left == 0)
            it->dropped = true;
    }
}

/* The valid ids of nw's array `key` (entries' Id, or strings). */
static void s_array_ids(const s_fold_t *f, const s_item_t *nw, const char *key, bool entries,
                        s_ids_t *out)
{
    out->n = 0;
    zb_map_t m;
    if (s_map(f, nw, &m) == -1)
        return;
    const zb_field_t *fld = zb_map_get(&m, key);
    zb_mpk_t c;
    uint32_t n;
    if (!fld)
        return;
    zb_mpk_init(&c, fld->val, fld->val_len);
    if (zb_mpk_read_array(&c, &n) == -1)
        return;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *v = c.p;
        zb_mpk_skip(&c, ZB_PROTO_MAX_DEPTH);
        s_name_t id;
        zb_mpk_t e;
        zb_mpk_init(&e, v, (size_t) (c.p - v));
        if (entries ? s_entry_id(v, (size_t) (c.p - v), &id)
                    : zb_mpk_read_str(&e, &id.s, &id.len) == 0
                          && config__valid_name(id.s, id.len))
            s_ids_add(out, id);
    }
}

static void s_fold_put_targets(s_fold_t *f, s_item_t *nw, const void *reply, size_t reply_len)
{
    s_ids_t failed, given, sup;
    s_failed_ids(reply, reply_len, &failed);
    s_array_ids(f, nw, "Targets", true, &given);
    s_strip_t st = {&failed, &given};
    int left = s_filter_array(f, nw, "Targets", s_keep_applied, &st);
    if (left == 0) {
        nw->dropped = true;
        return;
    }
    sup.n = 0;
    for (int i = 0; i < given.n; i++)
        if (!s_ids_has(&failed, given.id[i]) && !s_ids_has(&sup, given.id[i]))
            s_ids_add(&sup, given.id[i]);
    /* The ids point into nw's bytes as given, which stay put. */
    s_supersede_targets(f, nw, &sup);
}

static void s_fold_remove_targets(s_fold_t *f, s_item_t *nw)
{
    s_ids_t ids;
    s_array_ids(f, nw, "Ids", false, &ids);
    s_supersede_targets(f, nw, &ids);
}

/* ==== the fold =================================================================== */

int state_fold(const state_op_t *ops, size_t n, const void *req, size_t len, const void *reply,
               size_t reply_len, zb_buf_t *out, size_t *count, size_t *offsets,
               state_key_t *keys)
{
    s_fold_t f = {0};
    f.n = n + 1;
    f.items = calloc(f.n, sizeof *f.items);
    f.scratch = zb_buf_new(len + 256);
    f.tmp = zb_buf_new(len + 256);
    int rc = -1;
    if (!f.items || !f.scratch || !f.tmp)
        goto done;
    s_item_t *nw = &f.items[n];
    nw->data = req;
    nw->len = len;
    s_key(nw);
    uint64_t bus = nw->keyed ? s_hash(nw->bus) : 0;
    for (size_t i = 0; i < n; i++) {
        f.items[i].data = ops[i].data;
        f.items[i].len = ops[i].len;
        if (bus && ops[i].key.bus == bus)
            s_key(&f.items[i]); /* else unkeyed: it concerns another bus */
    }
    if (nw->keyed)
        switch (nw->action) {
        case ZB_ACTION_DELETE_EVENT_BUS:
            s_fold_delete_bus(&f, nw);
            break;
        case ZB_ACTION_DELETE_RULE:
            s_fold_delete_rule(&f, nw);
            break;
        case ZB_ACTION_PUT_RULE:
        case ZB_ACTION_ENABLE_RULE:
        case ZB_ACTION_DISABLE_RULE:
            s_fold_rule_fields(&f, nw);
            break;
        case ZB_ACTION_PUT_TARGETS:
            s_fold_put_targets(&f, nw, reply, reply_len);
            break;
        case ZB_ACTION_REMOVE_TARGETS:
            s_fold_remove_targets(&f, nw);
            break;
        default:
            break;
        }
    if (f.oom)
        goto done;
    *count = 0;
    size_t base = out->len;
    for (size_t i = 0; i < f.n; i++) {
        const s_item_t *it = &f.items[i];
        if (it->dropped)
            continue;
        size_t blen;
        const uint8_t *p = s_bytes(&f, it, &blen);
        if (offsets)
            offsets[*count] = out->len - base;
        if (keys) {
            if (i < n && !it->rewritten)
                keys[*count] = ops[i].key;
            else
                state_fold_key(p, blen, &keys[*count]);
        }
        if (zb_buf_append(out, p, blen) == -1)
            goto done;
        ++*count;
    }
    rc = 0;
done:
    free(f.items);
    zb_buf_destroy(&f.scratch);
    zb_buf_destroy(&f.tmp);
    return rc;
}

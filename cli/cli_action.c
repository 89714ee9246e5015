/*
 * cli_action.c — the engine behind the zbridge CLI's broker commands. See
 * cli_action.h.
 *
 * Messages and exit codes follow the AWS CLI v2 so that scripts written
 * against `aws events` read zbridge's output the same way.
 */
#include "cli_action.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mpk.h"

/* ---- arguments ---------------------------------------------------------- */

static int s_parse_seconds(const char *flag, const char *value, int *ms)
{
    char *end;
    errno = 0;
    double s = strtod(value, &end);
    if (errno || end == value || *end || !isfinite(s) || s <= 0 || s > 86400) {
        fprintf(stderr, "\nError parsing parameter '%s': expected a positive number of "
                        "seconds, received: \"%s\"\n", flag, value);
        return -1;
    }
    *ms = (int) ceil(s * 1000);
    return 0;
}

/* Splits "--flag=value" so both spellings work, as with the AWS CLI. The
 * returned flag is a copy in `buf`; *value is NULL without "=". */
static const char *s_split_flag(const char *arg, char *buf, size_t bufsz, const char **value)
{
    const char *eq = strchr(arg, '=');
    *value = NULL;
    if (!eq || strncmp(arg, "--", 2) != 0)
        return arg;
    snprintf(buf, bufsz, "%.*s", (int) (eq - arg), arg);
    *value = eq + 1;
    return buf;
}

/* The value of the option at argv[*i]: its "=value" part or the next
 * argument. NULL (after a usage message) when there is none. */
static const char *s_option_value(const char *flag, const char *inline_value, int argc,
                                  char **argv, int *i)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 >= argc) {
        fprintf(stderr, "\nzbridge: error: argument %s: expected one argument\n", flag);
        return NULL;
    }
    return argv[++*i];
}

int cli_global_option(cli_globals_t *g, int argc, char **argv, int *i)
{
    char buf[64];
    const char *inline_value;
    const char *flag = s_split_flag(argv[*i], buf, sizeof buf, &inline_value);
    if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
        g->help = true;
        return 1;
    }
    bool endpoint = strcmp(flag, "--endpoint") == 0 || strcmp(flag, "--endpoint-url") == 0;
    bool rto = strcmp(flag, "--cli-read-timeout") == 0;
    bool cto = strcmp(flag, "--cli-connect-timeout") == 0;
    bool output = strcmp(flag, "--output") == 0;
    if (!endpoint && !rto && !cto && !output)
        return 0;
    const char *value = s_option_value(flag, inline_value, argc, argv, i);
    if (!value)
        return -1;
    if (endpoint)
        g->endpoint = value;
    else if (output) {
        if (strcmp(value, "json") != 0) {
            fprintf(stderr, "\nzbridge: error: argument --output: invalid choice: '%s' "
                            "(choose from 'json')\n", value);
            return -1;
        }
    }
    else if (s_parse_seconds(flag, value, rto ? &g->read_ms : &g->connect_ms) != 0)
        return -1;
    return 1;
}

void cli_globals_help(FILE *out, bool with_endpoint)
{
    fprintf(out, "Global options\n");
    if (with_endpoint)
        fprintf(out,
            "  --endpoint <value>             the broker's ROUTER endpoint (alias --endpoint-url);\n"
            "                                 default $%s, else %s\n",
            ZBRIDGE_ENDPOINT_ENV, ZBRIDGE_DEFAULT_ENDPOINT);
    fprintf(out,
        "  --cli-connect-timeout <secs>   give up when the broker cannot be reached within\n"
        "                                 this time (default %d)\n"
        "  --cli-read-timeout <secs>      give up when the broker does not answer within\n"
        "                                 this time (default %d)\n"
        "  --output json                  the only output format\n"
        "  --help                         this text\n",
        ZBRIDGE_DEFAULT_CONNECT_TIMEOUT / 1000, ZBRIDGE_DEFAULT_READ_TIMEOUT / 1000);
}

char *cli_arg_text(const char *flag, const char *value)
{
    if (strncmp(value, "file://", 7) != 0)
        return strdup(value);
    const char *path = value + 7;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "\nError parsing parameter '%s': Unable to load paramfile %s: %s\n",
                flag, value, strerror(errno));
        return NULL;
    }
    zb_buf_t *buf = zb_buf_new(4096);
    char chunk[4096];
    size_t n;
    int rc = buf ? 0 : -1;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = zb_buf_append(buf, chunk, n);
    if (ferror(f))
        rc = -1;
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "\nError parsing parameter '%s': Unable to load paramfile %s\n",
                flag, value);
        zb_buf_destroy(&buf);
        return NULL;
    }
    char *text = buf->data;
    buf->data = NULL;
    free(buf);
    return text;
}

/* ---- output ------------------------------------------------------------- */

static int s_newline(zb_buf_t *out, int depth)
{
    int rc = zb_buf_append_byte(out, '\n');
    for (int d = 0; rc == 0 && d < depth; d++)
        rc = zb_buf_append(out, "  ", 2);
    return rc;
}

int cli_json_pretty(const char *json, size_t len, zb_buf_t *out)
{
    int depth = 0, rc = 0;
    bool in_str = false, escaped = false;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        char c = json[i];
        if (in_str) {
            rc = zb_buf_append_byte(out, (uint8_t) c);
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            rc = zb_buf_append_byte(out, '"');
            break;
        case '{':
        case '[':
            rc = zb_buf_append_byte(out, (uint8_t) c);
            if (i + 1 < len && (json[i + 1] == '}' || json[i + 1] == ']'))
                rc |= zb_buf_append_byte(out, (uint8_t) json[++i]);
            else
                rc |= s_newline(out, ++depth);
            break;
        case '}':
        case ']':
            rc = s_newline(out, --depth);
            rc |= zb_buf_append_byte(out, (uint8_t) c);
            break;
        case ',':
            rc = zb_buf_append_byte(out, ',');
            rc |= s_newline(out, depth);
            break;
        case ':':
            rc = zb_buf_append(out, ": ", 2);
            break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            rc = zb_buf_append_byte(out, (uint8_t) c);
        }
    }
    return rc | zb_buf_append_byte(out, '\n');
}

int cli_print_reply(FILE *out, const void *reply, size_t len)
{
    zb_mpk_t cur;
    uint32_t pairs;
    zb_mpk_init(&cur, reply, len);
    if (zb_mpk_read_map(&cur, &pairs) == 0 && pairs == 0)
        return 0;
    zb_buf_t *json = zb_buf_new(len * 2);
    zb_buf_t *pretty = zb_buf_new(len * 3);
    zb_json_error_t jerr;
    int rc = -1;
    if (json && pretty) {
        if (zb_msgpack_to_json(reply, len, json, &jerr) != 0)
            fprintf(stderr, "\nzbridge: the reply cannot be shown as JSON: %s\n", jerr.message);
        else if (cli_json_pretty(json->data, json->len, pretty) == 0) {
            fwrite(pretty->data, 1, pretty->len, out);
            rc = fflush(out) == 0 ? 0 : -1;
        }
    }
    zb_buf_destroy(&json);
    zb_buf_destroy(&pretty);
    return rc;
}

int cli_print_error(const zbridge_error_t *err, const char *action)
{
    switch (err->kind) {
    case ZBRIDGE_ERROR_SERVICE:
        fprintf(stderr, "\nAn error occurred (%s) when calling the %s operation: %s\n",
                err->code, action, err->message);
        return CLI_EXIT_SERVICE;
    case ZBRIDGE_ERROR_INPUT:
        fprintf(stderr, "\n%s\n", err->message);
        return CLI_EXIT_USAGE;
    default:
        /* The connect and read timeouts already read like the AWS CLI's
         * ("Could not connect to the endpoint URL: ..."). */
        fprintf(stderr, "\n%s\n", err->message);
        return CLI_EXIT_OTHER;
    }
}

/* ---- help --------------------------------------------------------------- */

static const char *s_kind_value(cli_param_kind_t kind)
{
    switch (kind) {
    case CLI_BOOL: return "";
    case CLI_INT: return " <integer>";
    case CLI_JSON: return " <json>";
    case CLI_STR_LIST: return " <value> [<value>...]";
    default: return " <value>";
    }
}

/* Prints "usage: zbridge <name> <flags...>", wrapped under the name. */
static void s_usage_line(FILE *out, const cli_command_t *cmd)
{
    int col = fprintf(out, "usage: zbridge %s", cmd->name);
    int indent = col;
    char item[160];
    for (const cli_param_t *p = cmd->params;; p++) {
        if (!p->flag)
            snprintf(item, sizeof item, " [--endpoint <value>]");
        else if (p->kind == CLI_BOOL)
            snprintf(item, sizeof item, " [%s | --no-%s]", p->flag, p->flag + 2);
        else
            snprintf(item, sizeof item, p->required ? " %s%s" : " [%s%s]", p->flag,
                     s_kind_value(p->kind));
        int len = (int) strlen(item);
        if (col + len > 79) {
            col = fprintf(out, "\n%*s", indent, "") - 1;
        }
        col += fprintf(out, "%s", item);
        if (!p->flag)
            break;
    }
    fprintf(out, "\n");
}

static void s_help(FILE *out, const cli_command_t *cmd)
{
    fprintf(out, "%s\n\n%s\n\nThe EventBridge action: %s.\n\n", cmd->name, cmd->summary,
            cmd->action);
    if (cmd->paginate)
        fprintf(out, "Every page is fetched and printed as one %s list, as the AWS CLI\n"
                     "does; with --limit or --next-token, one page and its NextToken.\n\n",
                cmd->paginate);
    s_usage_line(out, cmd);
    if (cmd->params[0].flag) {
        fprintf(out, "\nOptions\n");
        for (const cli_param_t *p = cmd->params; p->flag; p++)
            fprintf(out, "  %s%s  (%s%s)\n      %s\n", p->flag, s_kind_value(p->kind),
                    p->required ? "required, " : "", p->field, p->help);
        fprintf(out, "  --cli-input-json <json>  the request's fields as one JSON object;\n"
                     "      the options above override its members\n");
        fprintf(out, "  JSON and string values may be given as file://path.\n");
    }
    fprintf(out, "\n");
    cli_globals_help(out, true);
    fprintf(out, "\nOutput: the broker's reply as JSON (nothing when the reply is empty).\n"
                 "Exit status: 0 ok, 252 bad parameters, 254 the broker refused the request,\n"
                 "255 no connection or no reply in time.\n");
}

static int s_usage_error(const cli_command_t *cmd, const char *fmt, const char *what)
{
    fprintf(stderr, "\n");
    s_usage_line(stderr, cmd);
    fprintf(stderr, "To see help text, you can run:\n\n  zbridge %s --help\n\n", cmd->name);
    fprintf(stderr, "zbridge: error: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    return CLI_EXIT_USAGE;
}

/* ---- parameters --------------------------------------------------------- */

static const cli_param_t *s_find_param(const cli_command_t *cmd, const char *flag, bool *negated)
{
    *negated = false;
    for (const cli_param_t *p = cmd->params; p->flag; p++) {
        if (strcmp(p->flag, flag) == 0)
            return p;
        if (p->kind == CLI_BOOL && strncmp(flag, "--no-", 5) == 0
            && strcmp(p->flag + 2, flag + 5) == 0) {
            *negated = true;
            return p;
        }
    }
    return NULL;
}

/* Appends the JSON text `text` (the value of `flag`) as msgpack. Prints
 * the AWS CLI's "Invalid JSON" message on failure. */
static int s_put_json(zb_buf_t *out, const char *flag, const char *text)
{
    zb_json_error_t jerr;
    size_t mark = out->len;
    if (zb_json_to_msgpack(text, strlen(text), out, &jerr) == 0)
        return 0;
    out->len = mark;
    fprintf(stderr, "\nError parsing parameter '%s': Invalid JSON: %s", flag, jerr.message);
    if (jerr.offset >= 0)
        fprintf(stderr, " (char %ld)", jerr.offset);
    fprintf(stderr, "\nJSON received: %s\n", text);
    return -1;
}

/* Appends the value of one parameter; *i is at the flag and is moved past
 * its value(s). */
static int s_put_value(zb_buf_t *out, const cli_param_t *p, bool negated,
                       const char *inline_value, int argc, char **argv, int *i)
{
    if (p->kind == CLI_BOOL)
        return zb_mpk_put_bool(out, !negated) == 0 ? 0 : -1;
    if (p->kind == CLI_STR_LIST && !inline_value) {
        /* AWS style: --ids a b c, up to the next option. */
        int first = *i + 1, n = 0;
        while (first + n < argc && strncmp(argv[first + n], "--", 2) != 0)
            n++;
        if (n == 1 && argv[first][0] == '[') {
            *i = first;
            return s_put_json(out, p->flag, argv[first]);
        }
        if (n == 0) {
            fprintf(stderr, "\nzbridge: error: argument %s: expected at least one argument\n",
                    p->flag);
            return -1;
        }
        int rc = zb_mpk_put_array(out, (uint32_t) n);
        for (int k = 0; k < n; k++)
            rc |= zb_mpk_put_str(out, argv[first + k], strlen(argv[first + k]));
        *i = first + n - 1;
        return rc ? -1 : 0;
    }
    const char *value = s_option_value(p->flag, inline_value, argc, argv, i);
    if (!value)
        return -1;
    if (p->kind == CLI_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            fprintf(stderr, "\nError parsing parameter '%s': invalid literal for int: %s\n",
                    p->flag, value);
            return -1;
        }
        return zb_mpk_put_int(out, v) == 0 ? 0 : -1;
    }
    char *text = cli_arg_text(p->flag, value);
    if (!text)
        return -1;
    int rc;
    if (p->kind == CLI_STR)
        rc = zb_mpk_put_str(out, text, strlen(text)) == 0 ? 0 : -1;
    else if (p->kind == CLI_STR_LIST && text[0] != '[') {
        rc = zb_mpk_put_array(out, 1) | zb_mpk_put_str(out, text, strlen(text));
        rc = rc ? -1 : 0;
    }
    else
        rc = s_put_json(out, p->flag, text);
    free(text);
    return rc;
}

/* --cli-input-json: the fields of a JSON object (inline or file://), under
 * the flags given on the command line, which win as with the AWS CLI.
 * Appends the object's other members to `fields` and marks the parameters
 * they provide as seen. Returns 0, or -1 after printing why. */
static int s_merge_input_json(const cli_command_t *cmd, const char *value, bool *seen,
                              size_t nparams, zb_buf_t *fields, uint32_t *count,
                              bool *by_hand)
{
    const char *flag = "--cli-input-json";
    char *text = cli_arg_text(flag, value);
    zb_buf_t *packed = zb_buf_new(256);
    int rc = -1;
    if (!text || !packed || s_put_json(packed, flag, text) != 0)
        goto done;
    zb_mpk_t cur;
    uint32_t pairs;
    zb_mpk_init(&cur, packed->data, packed->len);
    if (zb_mpk_read_map(&cur, &pairs) != 0) {
        fprintf(stderr, "\nError parsing parameter '%s': expected a JSON object\n", flag);
        goto done;
    }
    for (uint32_t i = 0; i < pairs; i++) {
        const uint8_t *start = cur.p;
        const char *key;
        uint32_t klen;
        if (zb_mpk_read_str(&cur, &key, &klen) != 0 || zb_mpk_skip(&cur, ZB_MPK_MAX_DEPTH) != 0)
            goto done;  /* cannot happen: it was transcoded from a JSON object */
        bool from_flag = false;
        for (size_t k = 0; k < nparams; k++) {
            const char *field = cmd->params[k].field;
            if (strlen(field) == klen && memcmp(field, key, klen) == 0) {
                from_flag = seen[k];
                seen[k] = true;
            }
        }
        if (from_flag)
            continue;
        if ((klen == 5 && memcmp(key, "Limit", 5) == 0)
            || (klen == 9 && memcmp(key, "NextToken", 9) == 0))
            *by_hand = true;
        if (zb_buf_append(fields, start, (size_t) (cur.p - start)) != 0)
            goto done;
        ++*count;
    }
    rc = 0;
done:
    free(text);
    zb_buf_destroy(&packed);
    return rc;
}

/* Parses argv into the request's fields (msgpack map body in `fields`,
 * `*count` pairs) and the global options; *by_hand tells whether the user
 * pages by hand (Limit or NextToken given). Returns 0, 1 for --help, or an
 * exit code > 1 after printing why. */
static int s_parse(const cli_command_t *cmd, int argc, char **argv, cli_globals_t *g,
                   zb_buf_t *fields, uint32_t *count, bool *by_hand)
{
    size_t nparams = 0;
    while (cmd->params[nparams].flag)
        nparams++;
    bool seen[32] = { false };
    if (nparams > sizeof seen / sizeof seen[0])
        nparams = sizeof seen / sizeof seen[0];
    *count = 0;
    const char *input_json = NULL;
    for (int i = 1; i < argc; i++) {
        int rc = cli_global_option(g, argc, argv, &i);
        if (rc == -1)
            return CLI_EXIT_USAGE;
        if (rc == 1)
            continue;
        char buf[128];
        const char *inline_value;
        const char *flag = s_split_flag(argv[i], buf, sizeof buf, &inline_value);
        if (strcmp(flag, "--cli-input-json") == 0) {
            if (!(input_json = s_option_value(flag, inline_value, argc, argv, &i)))
                return CLI_EXIT_USAGE;
            continue;
        }
        bool negated;
        const cli_param_t *p = s_find_param(cmd, flag, &negated);
        if (!p) {
            fprintf(stderr, "\nUnknown options: %s\n", argv[i]);
            return CLI_EXIT_USAGE;
        }
        size_t k = (size_t) (p - cmd->params);
        if (k < nparams && seen[k]) {
            fprintf(stderr, "\nzbridge: error: argument %s: given twice\n", p->flag);
            return CLI_EXIT_USAGE;
        }
        if (k < nparams)
            seen[k] = true;
        if (strcmp(p->field, "Limit") == 0 || strcmp(p->field, "NextToken") == 0)
            *by_hand = true;
        if (zb_mpk_put_str(fields, p->field, strlen(p->field)) != 0
            || s_put_value(fields, p, negated, inline_value, argc, argv, &i) != 0)
            return CLI_EXIT_USAGE;
        ++*count;
    }
    if (g->help)
        return 1;
    if (input_json && s_merge_input_json(cmd, input_json, seen, nparams, fields, count,
                                         by_hand) != 0)
        return CLI_EXIT_USAGE;
    for (size_t k = 0; k < nparams; k++)
        if (cmd->params[k].required && !seen[k])
            return s_usage_error(cmd, "the following arguments are required: %s",
                                 cmd->params[k].flag);
    return 0;
}

/* Reads one page of a list reply: appends the items of the `key` array to
 * `items` (counting them in *nitems) and leaves NextToken, if any, in
 * `token` (emptied otherwise). Returns 0, or -1 for a malformed page. */
static int s_read_page(const void *page, size_t len, const char *key, zb_buf_t *items,
                       uint32_t *nitems, zb_buf_t *token)
{
    zb_mpk_t cur;
    uint32_t pairs, n;
    zb_buf_reset(token);
    zb_mpk_init(&cur, page, len);
    if (zb_mpk_read_map(&cur, &pairs) != 0)
        return -1;
    for (uint32_t i = 0; i < pairs; i++) {
        const char *k, *s;
        uint32_t klen, slen;
        if (zb_mpk_read_str(&cur, &k, &klen) != 0)
            return -1;
        if (klen == strlen(key) && memcmp(k, key, klen) == 0
            && zb_mpk_read_array(&cur, &n) == 0) {
            const uint8_t *start = cur.p;
            for (uint32_t j = 0; j < n; j++)
                if (zb_mpk_skip(&cur, ZB_MPK_MAX_DEPTH) != 0)
                    return -1;
            if (zb_buf_append(items, start, (size_t) (cur.p - start)) != 0
                || *nitems > UINT32_MAX - n)
                return -1;
            *nitems += n;
        }
        else if (klen == 9 && memcmp(k, "NextToken", 9) == 0
                 && zb_mpk_read_str(&cur, &s, &slen) == 0) {
            if (zb_buf_append(token, s, slen) != 0)
                return -1;
        }
        else if (zb_mpk_skip(&cur, ZB_MPK_MAX_DEPTH) != 0)
            return -1;
    }
    return 0;
}

/* More pages than any broker serves for one listing (its pages hold 100
 * items): past this a broker is taken to be looping. */
#define CLI_MAX_PAGES 10000

/* Runs a list action page after page, following NextToken, and returns one
 * reply {key: [every item]} as if the broker had sent it whole. */
static int s_call_all_pages(zbridge_client_t *client, const cli_command_t *cmd,
                            const zb_buf_t *fields, uint32_t count, void **reply,
                            size_t *reply_len, zbridge_error_t *err)
{
    zb_buf_t *req = zb_buf_new(256), *items = zb_buf_new(1024);
    zb_buf_t *token = zb_buf_new(64), *last = zb_buf_new(64), *out = NULL;
    uint32_t nitems = 0, pages = 0;
    int rc = -1;
    if (!req || !items || !token || !last)
        goto done;
    for (;;) {
        uint32_t before = nitems;
        zb_buf_reset(req);
        int w = zb_mpk_put_map(req, count + (token->len > 0));
        w |= zb_buf_append(req, fields->data, fields->len);
        if (token->len > 0)
            w |= zb_mpk_put_str(req, "NextToken", 9) | zb_mpk_put_str(req, token->data, token->len);
        if (w)
            goto done;
        void *page;
        size_t len;
        if (zbridge_client_call(client, cmd->action, req->data, req->len, &page, &len, err) != 0)
            goto done;
        zb_buf_reset(last);
        w = zb_buf_append(last, token->data, token->len);
        w |= s_read_page(page, len, cmd->paginate, items, &nitems, token);
        free(page);
        /* A broker that hands out tokens without moving (the same token, or
         * pages with nothing on them) or without end would keep the CLI
         * asking for ever: every page must bring items, and there is a cap. */
        bool stuck = token->len > 0
                     && ((token->len == last->len && memcmp(token->data, last->data, token->len) == 0)
                         || nitems == before || ++pages >= CLI_MAX_PAGES);
        if (w || stuck) {
            err->kind = ZBRIDGE_ERROR_PROTOCOL;
            snprintf(err->code, sizeof err->code, "InvalidReply");
            snprintf(err->message, sizeof err->message,
                     "the broker sent a malformed page of %s", cmd->action);
            goto done;
        }
        if (token->len == 0)
            break;
    }
    out = zb_buf_new(items->len + 64);
    if (!out || zb_mpk_put_map(out, 1) != 0
        || zb_mpk_put_str(out, cmd->paginate, strlen(cmd->paginate)) != 0
        || zb_mpk_put_array(out, nitems) != 0 || zb_buf_append(out, items->data, items->len) != 0)
        goto done;
    *reply = out->data;
    *reply_len = out->len;
    out->data = NULL;
    rc = 0;
done:
    if (rc != 0 && err->kind == ZBRIDGE_OK) {
        err->kind = ZBRIDGE_ERROR_SYSTEM;
        snprintf(err->code, sizeof err->code, "SystemError");
        snprintf(err->message, sizeof err->message, "zbridge: out of memory");
    }
    free(out);
    zb_buf_destroy(&req);
    zb_buf_destroy(&items);
    zb_buf_destroy(&token);
    zb_buf_destroy(&last);
    return rc;
}

int cli_action_run(const cli_command_t *cmd, int argc, char **argv)
{
    cli_globals_t g = { 0 };
    zb_buf_t *fields = zb_buf_new(256);
    zb_buf_t *request = zb_buf_new(256);
    zbridge_client_t *client = NULL;
    int code = CLI_EXIT_OTHER;
    uint32_t count;
    bool by_hand = false;
    if (!fields || !request) {
        fprintf(stderr, "\nzbridge: out of memory\n");
        goto done;
    }
    code = s_parse(cmd, argc, argv, &g, fields, &count, &by_hand);
    if (code == 1) {
        s_help(stdout, cmd);
        code = CLI_EXIT_OK;
        goto done;
    }
    if (code != 0)
        goto done;
    client = zbridge_client_new(g.endpoint);
    if (!client) {
        fprintf(stderr, "\nInvalid endpoint: \"%s\" (expected transport://address, "
                        "e.g. %s)\n", g.endpoint ? g.endpoint : "", ZBRIDGE_DEFAULT_ENDPOINT);
        code = CLI_EXIT_USAGE;
        goto done;
    }
    zbridge_client_set_timeouts(client, g.connect_ms, g.read_ms);
    if (zb_mpk_put_map(request, count) != 0
        || zb_buf_append(request, fields->data, fields->len) != 0) {
        fprintf(stderr, "\nzbridge: out of memory\n");
        goto done;
    }
    void *reply;
    size_t reply_len;
    zbridge_error_t err = { 0 };
    int rc = cmd->paginate && !by_hand
           ? s_call_all_pages(client, cmd, fields, count, &reply, &reply_len, &err)
           : zbridge_client_call(client, cmd->action, request->data, request->len, &reply,
                                 &reply_len, &err);
    if (rc != 0) {
        code = cli_print_error(&err, cmd->action);
        goto done;
    }
    code = cli_print_reply(stdout, reply, reply_len) == 0 ? CLI_EXIT_OK : CLI_EXIT_OTHER;
    free(reply);
done:
    zbridge_client_destroy(&client);
    zb_buf_destroy(&fields);
    zb_buf_destroy(&request);
    return code;
}

/*
 * fuzz_config.c — the rules file loader (broker/config.c over libyaml):
 * YAML, the schema, event patterns written as YAML or JSON, endpoints and
 * limits. Every input either loads or is refused with at least one error
 * line naming file:line:col; never a crash, a leak or a hang.
 *
 * config__load() reads a path, so each input goes through a memfd.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "zb_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-rules.yaml", 0);
    if (fd == -1)
        return 0;
    if (size && write(fd, data, size) != (ssize_t) size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    zb_buf_t *errors = zb_buf_new(256);
    if (!errors) {
        close(fd);
        return 0;
    }
    zb_config_t *cfg = config__load(path, errors);
    /* A refusal always says why, and where. */
    if (!cfg && (errors->len == 0 || !strstr(errors->data, path)))
        __builtin_trap();
    config__destroy(&cfg);
    zb_buf_destroy(&errors);
    close(fd);
    return 0;
}

/*
 * zb_hex.h — 16 bytes as 32 lower-case hex digits, for event ids.
 *
 * Internal to proto/ (and its tests): zb_uuid_format (zb_proto.h) is the
 * interface. Two ways of doing the same thing: the portable one, compiled
 * everywhere, and an SSE2 one where the compiler targets SSE2 (every
 * x86-64). zb_hex32 is the one the codec uses. Both are compiled on x86,
 * so the unit tests compare them there and the portable one, which other
 * machines run, is tested by every build.
 */
#ifndef ZB_HEX_H
#define ZB_HEX_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The 16 bytes of the big-endian words hi, lo (hi's top byte first) as 32
 * lower-case hex digits, in one pass over all of them rather than a table
 * look-up per byte (this runs for every event id): each nibble gets a
 * byte of its own, '0' is added, and those above 9 move up to 'a'. */
static inline void zb_hex32_portable(uint64_t hi, uint64_t lo, char hex[32])
{
    const uint64_t half[4] = { hi >> 32, hi & 0xffffffffu, lo >> 32, lo & 0xffffffffu };
    for (int i = 0; i < 4; i++) {
        uint64_t v = half[i];
        v = (v | (v << 16)) & 0x0000ffff0000ffffull;
        v = (v | (v << 8)) & 0x00ff00ff00ff00ffull;
        v = (v | (v << 4)) & 0x0f0f0f0f0f0f0f0full; /* nibble k in byte k */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        v = __builtin_bswap64(v); /* nibble 7 first in memory */
#endif
        uint64_t letter = ((v + 0x0606060606060606ull) >> 4) & 0x0101010101010101ull;
        v += 0x3030303030303030ull + letter * ('a' - '0' - 10);
        memcpy(hex + 8 * i, &v, 8);
    }
}

#if defined(__SSE2__)
/* zb_hex32_portable in two 16-byte registers. */
static inline void zb_hex32_sse2(uint64_t hi, uint64_t lo, char hex[32])
{
    /* x86: little-endian, so the swapped words hold the bytes in order. */
    __m128i v = _mm_set_epi64x((long long) __builtin_bswap64(lo), (long long) __builtin_bswap64(hi));
    __m128i m = _mm_set1_epi8(0x0f);
    __m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), m), low = _mm_and_si128(v, m);
    __m128i d[2] = { _mm_unpacklo_epi8(high, low), _mm_unpackhi_epi8(high, low) };
    for (int i = 0; i < 2; i++) {
        __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(d[i], _mm_set1_epi8(9)),
                                       _mm_set1_epi8('a' - '0' - 10));
        d[i] = _mm_add_epi8(_mm_add_epi8(d[i], _mm_set1_epi8('0')), letter);
        _mm_storeu_si128((__m128i *) (void *) (hex + 16 * i), d[i]);
    }
}
#define zb_hex32 zb_hex32_sse2
#else
#define zb_hex32 zb_hex32_portable
#endif

#endif

#include <stdint.h>
int8_t add_i8(int8_t a, int8_t b) { return (int8_t)(uint8_t)(a + b); }
uint16_t swap16(uint16_t x) { return (uint16_t)((x << 8) | (x >> 8)); }
int16_t mul_i16(int16_t a, int16_t b) { return (int16_t)(uint16_t)((int)a * (int)b); }
uint32_t bswap32_manual(uint32_t x) { return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24); }
int64_t sext_mix(int8_t a, int16_t b, int32_t c) { return (int64_t)a * 1000000 + (int64_t)b * 1000 + c; }
uint64_t zext_mix(uint8_t a, uint16_t b, uint32_t c) { return ((uint64_t)a << 48) | ((uint64_t)b << 32) | c; }
unsigned char to_upper_c(unsigned char c) { return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c; }
int char_class(char c) { if (c >= '0' && c <= '9') return 1; if ((c | 32) >= 'a' && (c | 32) <= 'z') return 2; if (c < 0) return 3; return 0; }
unsigned narrow_return(unsigned long x) { return (unsigned)(x * 7); }
short short_sum(const short *a, int n) { short s = 0; for (int i = 0; i < n; i++) s = (short)(unsigned short)(s + a[i]); return s; }
_Bool in_range(long x, long lo, long hi) { return x >= lo && x <= hi; }

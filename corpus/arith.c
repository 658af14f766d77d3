#include <stdint.h>
int add_sat(int a, int b) { long s = (long)a + b; if (s > 2147483647L) return 2147483647; if (s < -2147483648L) return -2147483647 - 1; return (int)s; }
unsigned mul_hash(unsigned x) { x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16; return x; }
int safe_div(int a, int b) { if (b == 0 || (a == -2147483647 - 1 && b == -1)) return 0; return a / b; }
int safe_mod(int a, int b) { if (b == 0 || (a == -2147483647 - 1 && b == -1)) return 0; return a % b; }
unsigned long udiv_mix(unsigned long a, unsigned long b) { if (b == 0) return a; return a / b + a % b; }
int sign_of(long x) { return (x > 0) - (x < 0); }
int is_pow2(unsigned long x) { return x && !(x & (x - 1)); }
unsigned rotl32(unsigned x, unsigned r) { r &= 31; return (x << r) | (x >> ((32 - r) & 31)); }
int popcount_loop(unsigned long x) { int c = 0; while (x) { x &= x - 1; c++; } return c; }
long iabs_long(long x) { return x < 0 ? -(unsigned long)x : x; }
int clamp_int(int x, int lo, int hi) { if (lo > hi) return lo; return x < lo ? lo : x > hi ? hi : x; }
unsigned gcd_u(unsigned a, unsigned b) { while (b) { unsigned t = a % b; a = b; b = t; } return a; }
long mixed_ops(long a, long b, int c) { unsigned long r = (unsigned long)a * 3u + (unsigned long)b; r ^= (unsigned long)c << (c & 15); return (long)(r >> 3); }
int max3(int a, int b, int c) { int m = a; if (b > m) m = b; if (c > m) m = c; return m; }
unsigned bit_reverse8(unsigned char x) { unsigned r = 0; for (int i = 0; i < 8; i++) { r = (r << 1) | (x & 1); x >>= 1; } return r; }
__int128 mul_wide(long a, long b) { return (__int128)a * b; }
long div_wide(__int128 a, long b) { if (b == 0) return 0; __int128 q = a / b; return (long)q; }
unsigned long umod_wide(unsigned __int128 a, unsigned long b) { if (b == 0) return 0; return (unsigned long)(a % b); }

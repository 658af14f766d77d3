unsigned fib(unsigned n) { n &= 15; return n < 2 ? n : fib(n - 1) + fib(n - 2); }
unsigned long fact(unsigned n) { n &= 15; return n <= 1 ? 1 : n * fact(n - 1); }
static int depth(unsigned x) { return x ? 1 + depth(x >> 1) : 0; }
int bit_depth(unsigned x) { return depth(x); }
unsigned ackermann_small(unsigned m, unsigned n) { m &= 1; n &= 7; if (m == 0) return n + 1; if (n == 0) return ackermann_small(m - 1, 1); return ackermann_small(m - 1, ackermann_small(m, n - 1)); }
long power_mod(long b, unsigned e, long m) { if (m <= 0) return 0; if (e == 0) return 1 % m; long h = power_mod(b, e / 2, m); unsigned long r = ((unsigned long)(h % m) * (unsigned long)(h % m)) % (unsigned long)m; if (e & 1) r = (r * (unsigned long)((b % m + m) % m)) % (unsigned long)m; return (long)r; }
int sum_digits_rec(unsigned n) { return n < 10 ? (int)n : (int)(n % 10) + sum_digits_rec(n / 10); }

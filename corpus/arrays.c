#include <stddef.h>
long sum_array(const int *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
int max_index(const int *a, int n) { if (n <= 0) return -1; int m = 0; for (int i = 1; i < n; i++) if (a[i] > a[m]) m = i; return m; }
void reverse_ints(int *a, int n) { for (int i = 0, j = n - 1; i < j; i++, j--) { int t = a[i]; a[i] = a[j]; a[j] = t; } }
void prefix_sum(long *a, size_t n) { for (size_t i = 1; i < n; i++) a[i] = (long)((unsigned long)a[i] + (unsigned long)a[i - 1]); }
int count_equal(const int *a, int n, int x) { int c = 0; for (int i = 0; i < n; i++) c += a[i] == x; return c; }
void insertion_sort(int *a, int n) { for (int i = 1; i < n; i++) { int k = a[i], j = i - 1; while (j >= 0 && a[j] > k) { a[j + 1] = a[j]; j--; } a[j + 1] = k; } }
int binary_search(const int *a, int n, int x) { int lo = 0, hi = n - 1; while (lo <= hi) { int mid = lo + (hi - lo) / 2; if (a[mid] == x) return mid; if (a[mid] < x) lo = mid + 1; else hi = mid - 1; } return -1; }
void add_arrays(int *dst, const int *a, const int *b, int n) { for (int i = 0; i < n; i++) dst[i] = (int)((unsigned)a[i] + (unsigned)b[i]); }
long dot_long(const long *a, const long *b, int n) { unsigned long s = 0; for (int i = 0; i < n; i++) s += (unsigned long)a[i] * (unsigned long)b[i]; return (long)s; }
void scale_bytes(unsigned char *p, size_t len, unsigned char k) { for (size_t i = 0; i < len; i++) p[i] = (unsigned char)(p[i] * k); }
int is_sorted(const int *a, int n) { for (int i = 1; i < n; i++) if (a[i - 1] > a[i]) return 0; return 1; }
void matrix4_mul(int *out, const int *x, const int *y) { /* sizes: out=16,x=16,y=16 */ for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) { unsigned s = 0; for (int k = 0; k < 4; k++) s += (unsigned)x[i * 4 + k] * (unsigned)y[k * 4 + j]; out[i * 4 + j] = (int)s; } }
int remove_value(int *a, int n, int v) { int w = 0; for (int i = 0; i < n; i++) if (a[i] != v) a[w++] = a[i]; return w; }
unsigned checksum16(const unsigned short *p, size_t count) { unsigned s = 0; for (size_t i = 0; i < count; i++) { s += p[i]; s = (s & 0xffff) + (s >> 16); } return s; }
